// Node cluster workers that never ask the primary for a server, so they
// never say "listening": MODE=consumer serves nothing (it works off a
// queue on a timer, which keeps it alive after Node's disconnect);
// MODE=exclusive binds its own socket (listen({exclusive: true}) on a free
// port), which it prints.
'use strict';
const cluster = require('cluster');
const http = require('http');

if (cluster.isPrimary) {
  cluster.fork();
} else if (process.env.MODE === 'exclusive') {
  const s = http.createServer((q, r) => r.end(`own ${process.pid}\n`));
  s.listen({ port: 0, host: '127.0.0.1', exclusive: true },
           () => console.error(`worker ${process.pid} bound its own port ${s.address().port}`));
} else {
  let done = 0;
  setInterval(() => { done++; }, 50);
  console.error(`worker ${process.pid} consumes`);
}
