// An app written for Node's own cluster module, as its docs show it: the
// primary forks, the workers listen. Under `zcluster --node` the primary
// branch never runs. GET / answers who served; /slow answers after 1.5 s;
// /garbage writes a line that is not JSON on the channel; /huge sends a
// message of 10 MiB; /blocking says whether the listening socket it was
// given blocks; /tell sends two messages meant for the app's own
// primary; /elsewhere asks to listen on an address
// that is not this host's and answers with the error.
'use strict';
const cluster = require('cluster');
const http = require('http');
const fs = require('fs');

const port = Number(process.env.PORT || 8000);

if (cluster.isPrimary) {
  for (let i = 0; i < 2; i++) cluster.fork();
  cluster.on('exit', (w, code) => console.log(`worker ${w.id} exited ${code}`));
} else {
  const server = http.createServer((req, res) => {
    if (req.url === '/blocking') {   /* the listening socket's O_NONBLOCK */
      const info = fs.readFileSync(`/proc/self/fdinfo/${server._handle.fd}`, 'utf8');
      const flags = parseInt(/flags:\s*([0-7]+)/.exec(info)[1], 8);
      return res.end((flags & 0o4000) ? 'non-blocking\n' : 'blocking\n');
    }
    if (req.url === '/slow')
      return setTimeout(() => res.end(`slow done ${process.pid}\n`), 1500);
    if (req.url === '/leave')       /* Node's own worker.disconnect() */
      return res.end('bye\n', () => cluster.worker.disconnect());
    if (req.url === '/hang')
      return;                       /* never answered: holds the drain */
    if (req.url === '/huge') {
      process.send({ big: 'x'.repeat(10 * 1024 * 1024) });
      return res.end('sent\n');
    }
    if (req.url === '/elsewhere') {
      const other = http.createServer();
      other.on('error', (e) => res.end(`error ${e.code}\n`));
      other.on('listening', () => res.end('listening?!\n'));
      return other.listen(port, '192.0.2.1');
    }
    if (req.url === '/tell') {     /* for the app's own primary branch */
      process.send({ hits: 1 });
      process.send({ hits: 2 });
      return res.end('told\n');
    }
    if (req.url === '/garbage') {
      fs.writeSync(process.channel.fd, 'this is not json\n');
      return res.end('sent\n');
    }
    res.setHeader('X-Worker-Pid', String(process.pid));
    res.end(JSON.stringify({ id: cluster.worker.id, zc: process.env.ZC_WORKER_ID,
                             isWorker: cluster.isWorker }) + '\n');
  });
  server.listen(port);
}
