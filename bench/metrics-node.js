// The Node peer of bench/metrics.sh, with prom-client, the usual library.
//
//   node metrics-node.js inc N           ns per counter.inc() on a bound series
//   node metrics-node.js observe N       ns per histogram.observe()
//   node metrics-node.js cluster W S P   Node's cluster, W workers with S series
//                                        each; the primary serves the
//                                        aggregate on 127.0.0.1:P/metrics
//                                        (AggregatorRegistry, over IPC)
'use strict';
const cluster = require('node:cluster');
const http = require('node:http');
const client = require('prom-client');

const [mode, a, b, c] = process.argv.slice(2);

function families(n) {
    for (let f = 0; f < Math.ceil(n / 10); f++) {
        const m = new client.Counter({ name: `bench_family_${f}_total`,
            help: 'A family of the benchmark.', labelNames: ['shard'] });
        for (let i = 0; i < 10 && f * 10 + i < n; i++) m.labels(String(i)).inc();
    }
}

if (mode === 'inc' || mode === 'observe') {
    const n = Number(a);
    let m;
    if (mode === 'inc') {
        m = new client.Counter({ name: 'bench_requests_total', help: 'Requests.',
                                 labelNames: ['method', 'code'] }).labels('GET', '200');
    } else {
        m = new client.Histogram({ name: 'bench_seconds', help: 'Latency.' });
    }
    const t0 = process.hrtime.bigint();
    if (mode === 'inc') for (let i = 0; i < n; i++) m.inc();
    else for (let i = 0; i < n; i++) m.observe((i & 1023) * 1e-4);
    const t = Number(process.hrtime.bigint() - t0);
    console.log((t / n).toFixed(2));
} else if (mode === 'cluster') {
    const workers = Number(a), nseries = Number(b), port = Number(c);
    // Made in workers too: that is what makes them answer the primary.
    const agg = new client.AggregatorRegistry();
    if (cluster.isPrimary) {
        let online = 0;
        for (let i = 0; i < workers; i++) cluster.fork();
        cluster.on('message', (w, msg) => {
            if (msg === 'bench-ready' && ++online === workers) {
                http.createServer(async (req, res) => {
                    try {
                        const text = await agg.clusterMetrics();
                        res.writeHead(200, { 'Content-Type': agg.contentType });
                        res.end(text);
                    } catch (err) {
                        res.writeHead(500);
                        res.end(String(err));
                    }
                }).listen(port, '127.0.0.1', () => console.log('ready'));
            }
        });
    } else {
        families(nseries);
        process.send('bench-ready');
    }
}
