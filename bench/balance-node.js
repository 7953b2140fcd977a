// Node's own cluster module as the peer of bench/balance.sh:
//   node bench/balance-node.js PORT WORKERS
// The primary forks WORKERS http servers on 127.0.0.1:PORT. Scheduling is
// Node's: round-robin by default on Linux (the primary accepts and hands
// connections out), or the kernel's with NODE_CLUSTER_SCHED_POLICY=none
// (workers accept from one shared socket). Every answer says which worker
// (X-Worker-Slot, 0-based), and GET /burn?us=N spins N microseconds first,
// like zcluster-hello.
'use strict';
const cluster = require('node:cluster');
const http = require('node:http');

const [port, workers] = process.argv.slice(2).map(Number);

if (cluster.isPrimary) {
    for (let i = 0; i < workers; i++)
        cluster.fork({ SLOT: String(i) });
    process.on('SIGTERM', () => {
        for (const w of Object.values(cluster.workers)) w.kill();
        process.exit(0);
    });
} else {
    const body = 'hello\n';
    http.createServer((req, res) => {
        const m = /^\/burn\?us=(\d+)/.exec(req.url);
        if (m) {
            const until = process.hrtime.bigint() + BigInt(Math.min(Number(m[1]), 1e6)) * 1000n;
            while (process.hrtime.bigint() < until);
        }
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length,
                             'X-Worker-Slot': process.env.SLOT });
        res.end(body);
    }).listen(port, '127.0.0.1');
}
