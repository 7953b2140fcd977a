// The spec's sticky sessions on Node's own cluster module, for
// bench/sticky.sh: node bench/sticky-node.js PORT WORKERS
//
// What cluster.js's enableSticky() does, with the worker side it lacks:
// the primary listens with pauseOnConnect, hashes socket.remoteAddress
// with the spec's _defaultIpHash over the live workers, and sends the
// socket with worker.send({...}, socket); each worker hands it to its
// http server ('connection') and resumes it. The workers answer as
// zcluster-hello does: 200, a short text body, Connection honoured.
'use strict';
const cluster = require('node:cluster');
const http = require('node:http');
const net = require('node:net');
// The spec's function, as the tests check it against ours.
const { _defaultIpHash } = require('../tests/data/iphash.js');

const [port, workers] = process.argv.slice(2).map(Number);

if (cluster.isPrimary) {
    const live = new Map();
    for (let i = 0; i < workers; i++) {
        const w = cluster.fork();
        live.set(w.id, w);
        w.on('exit', () => live.delete(w.id));
    }
    const server = net.createServer({ pauseOnConnect: true }, (socket) => {
        const ids = Array.from(live.keys());
        if (ids.length === 0) {
            socket.destroy();
            return;
        }
        const w = live.get(ids[_defaultIpHash(socket.remoteAddress || '', ids.length) % ids.length]);
        w.send({ _zhttp: true, type: 'sticky:connection' }, socket);
    });
    server.listen(port, '127.0.0.1', () => console.log(`primary ${process.pid} listening`));
    process.on('SIGTERM', () => {
        for (const w of live.values()) w.kill();
        process.exit(0);
    });
} else {
    const body = `hello from worker ${cluster.worker.id} (pid ${process.pid})\n`;
    const server = http.createServer((req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
        res.end(body);
    });
    process.on('message', (msg, socket) => {
        if (!msg || msg.type !== 'sticky:connection' || !socket) return;
        server.emit('connection', socket);
        socket.resume();
    });
}
