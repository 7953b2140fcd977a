// The spec's sticky hash (zero-server cluster.js, _defaultIpHash), run by
// Node over the addresses given as arguments. Each line: the text Node
// gives as socket.remoteAddress for that address (IPv6 re-printed the way
// Node prints a socket's address), then the slot for 1, 2, 3, 4, 5, 7, 8,
// 16, 100 and 4096 workers. Used by tests/unit/test-sticky.c; the output
// for tests/data/iphash.txt's addresses is kept in tests/data/iphash.golden
// for machines without node. bench/sticky-node.js requires the function.
'use strict';
const net = require('net');

function _defaultIpHash(ip, count) {
    if (count <= 0) return 0;
    let hash = 5381;
    for (let i = 0; i < ip.length; i++) {
        hash = ((hash << 5) + hash + ip.charCodeAt(i)) & 0x7fffffff;
    }
    return hash % count;
}

module.exports = { _defaultIpHash };

if (require.main === module) {
    const counts = [1, 2, 3, 4, 5, 7, 8, 16, 100, 4096];
    for (const a of process.argv.slice(2)) {
        const text = net.isIPv6(a)
            ? new net.SocketAddress({ address: a, family: 'ipv6' }).address
            : a;
        console.log([text || '-', ...counts.map((n) => _defaultIpHash(text, n))].join(' '));
    }
}
