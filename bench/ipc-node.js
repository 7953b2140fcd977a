// bench/ipc-node.js: the same measurements as bench/ipc.c, with Node's
// cluster IPC (worker.send / process.send) and the spec's message shape
// ({ _zhttp: true, type, data }).
//
//   node bench/ipc-node.js w2p|p2w|rtt COUNT
//
// Flow control is a window of WINDOW messages with an ack every ACK_EVERY,
// in both directions (process.send has no bound of its own).
'use strict';
const cluster = require('cluster');
const { performance } = require('perf_hooks');

const [mode, countText] = process.argv.slice(2);
const count = Number(countText);
const WINDOW = 8192;
const ACK_EVERY = 4096;
const payload = 'x'.repeat(64);

if (cluster.isPrimary) {
  const worker = cluster.fork();
  const send = (type, data) => worker.send({ _zhttp: true, type, data });
  let got = 0;
  let sent = 0;
  let t0 = 0;
  const report = (what) => {
    const s = (performance.now() - t0) / 1000;
    console.log(`node ${what} ${Math.round(count / s)} msgs/s`);
    worker.kill();
    process.exit(0);
  };
  const sendUpTo = (n) => {
    for (let i = 0; i < n && sent < count; i++, sent++) send('m', payload);
  };
  worker.on('message', (m) => {
    switch (m.type) {
      case 'start': t0 = performance.now(); if (mode === 'p2w') sendUpTo(WINDOW); break;
      case 'm': if (++got === count) report('w2p'); else if (got % ACK_EVERY === 0) send('ack'); break;
      case 'ack': sendUpTo(ACK_EVERY); break;
      case 'done': report('p2w'); break;
      case 'ping': send('pong', m.data); break;
      case 'result':
        console.log(`node rtt ${m.data}`);
        worker.kill();
        process.exit(0);
    }
  });
} else {
  const send = (type, data) => process.send({ _zhttp: true, type, data });
  let got = 0;
  let sent = 0;
  const rtts = [];
  const sendUpTo = (n) => {
    for (let i = 0; i < n && sent < count; i++, sent++) send('m', payload);
  };
  process.on('message', (m) => {
    switch (m.type) {
      case 'm': if (++got === count) send('done'); else if (got % ACK_EVERY === 0) send('ack'); break;
      case 'ack': sendUpTo(ACK_EVERY); break;
      case 'pong': {
        const t = performance.now();
        rtts.push(t - m.data);
        if (rtts.length < count) { send('ping', t); break; }
        rtts.sort((a, b) => a - b);
        const us = (q) => (rtts[Math.floor(count * q)] * 1000).toFixed(1);
        send('result', `p50 ${us(0.5)} us p99 ${us(0.99)} us`);
      }
    }
  });
  send('start');
  if (mode === 'w2p') sendUpTo(WINDOW);
  else if (mode === 'rtt') send('ping', performance.now());
}
