// A worker written for the spec's sticky sessions: it does not listen;
// the primary sends it each connection as {_zhttp: true, type:
// "sticky:connection"} with the socket, and it serves it.
'use strict';
const cluster = require('cluster');
const http = require('http');

if (cluster.isPrimary) {
  console.error('run this under zcluster --node --sticky');
  process.exit(1);
}
const server = http.createServer((req, res) => {
  res.setHeader('X-Worker-Pid', String(process.pid));
  res.setHeader('Connection', 'close');
  res.end(`${req.socket.remoteAddress} -> ${process.pid}\n`);
});
process.on('message', (m, socket) => {
  if (m && m._zhttp && m.type === 'sticky:connection' && socket)
    server.emit('connection', socket);
});
