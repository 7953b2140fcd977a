// An app with three servers, as apps often have: the app on PORT, an
// admin port on PORT2, and a third on any free port (listen(0)). Each
// answers "NAME PID PORT3", PORT3 being the third one's port, so a test
// can find it. Node's workers ask for the three at once, before the
// first socket's acknowledgement.
'use strict';
const cluster = require('cluster');
const http = require('http');

const p1 = Number(process.env.PORT), p2 = Number(process.env.PORT2);

if (cluster.isPrimary) {
  for (let i = 0; i < 2; i++) cluster.fork();
} else {
  let p3 = 0;
  const reply = (name) => (q, s) => s.end(`${name} ${process.pid} ${p3}\n`);
  const fail = (name) => (e) => { console.error(`${name}: ${e.code}`); process.exit(1); };
  http.createServer(reply('app')).on('error', fail('app')).listen(p1);
  http.createServer(reply('admin')).on('error', fail('admin')).listen(p2, '127.0.0.1');
  const third = http.createServer(reply('any')).on('error', fail('any'));
  third.listen(0, '127.0.0.1', () => { p3 = third.address().port; });
}
