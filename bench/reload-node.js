// The spec's rolling restart on Node's own cluster module, for
// bench/reload.sh: node bench/reload-node.js PORT WORKERS STARTUP_MS
//
// The primary forks WORKERS http servers on 127.0.0.1:PORT (Node's default
// round-robin scheduling: the primary accepts and hands connections out).
// On SIGHUP it does what cluster.js's reload() does: for each worker, fork
// a replacement, wait for 'listening' (at most 10 s), disconnect the old
// one, wait for its exit (at most 10 s, then kill). It prints
// "reload done in N ms" at the end. Workers wait STARTUP_MS before they
// listen, as zcluster-hello --startup-delay does, and say their pid in
// X-Worker-Slot (bench/balance.lua counts answers per worker). A crashed
// worker is forked again after RESPAWN_MS (1000). bench/node.sh runs the
// same file under `zcluster --node`, where only the worker branch runs.
'use strict';
const cluster = require('node:cluster');
const http = require('node:http');

const [port, workers, startupMs] = process.argv.slice(2).map(Number);

if (cluster.isPrimary) {
    const live = new Map();
    let stopping = false;
    let reloading = false;

    const fork = () => {
        const w = cluster.fork();
        live.set(w.id, w);
        w.on('exit', (code) => {
            live.delete(w.id);
            // The spec respawns a worker that exits non-zero.
            if (!stopping && code !== 0)
                setTimeout(fork, Number(process.env.RESPAWN_MS || 1000));
        });
        return w;
    };

    const within = (ms, wait) => new Promise((resolve) => {
        const t = setTimeout(resolve, ms);
        wait(() => { clearTimeout(t); resolve(); });
    });

    const reload = async () => {
        for (const id of Array.from(live.keys())) {
            const old = live.get(id);
            if (!old || old.isDead()) continue;
            const fresh = fork();
            await within(10000, (done) => fresh.once('listening', done));
            old.disconnect();
            await within(10000, (done) => old.once('exit', done));
            if (!old.isDead()) old.kill();
            live.delete(id);
        }
    };

    process.on('SIGHUP', async () => {
        if (reloading) return;
        reloading = true;
        const t0 = Date.now();
        await reload();
        reloading = false;
        console.log(`reload done in ${Date.now() - t0} ms`);
    });
    process.on('SIGTERM', () => {
        stopping = true;
        for (const w of live.values()) w.kill();
        process.exit(0);
    });
    for (let i = 0; i < workers; i++) fork();
} else {
    const body = `hello from pid ${process.pid}\n`;
    const server = http.createServer((req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/plain',
                             'Content-Length': body.length,
                             'X-Worker-Slot': String(process.pid) });
        res.end(body);
    });
    setTimeout(() => server.listen(port, '127.0.0.1'), startupMs);
}
