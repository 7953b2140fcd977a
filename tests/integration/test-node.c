/*
 * Node.js apps unchanged under `zcluster --node`, with the real node
 * (Debian's nodejs): an app written for Node's cluster module serves from
 * every worker, cluster.worker.id is ZC_WORKER_ID, a killed worker comes
 * back, reloads under load lose nothing, TERM drains through Node's own
 * disconnect, and a worker that writes garbage on its channel is told
 * about, not obeyed.
 */
#include <netinet/in.h>
#include <signal.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"

static const char *app(void)
{
    if (access("/usr/bin/node", X_OK) != 0)
        zt_skip("node is not installed (apt-get install nodejs)");
    return zt_path("tests/data/node-cluster-app.js");
}

/* A free port, put in the environment as var for the app. */
static int free_port_in(const char *var)
{
    struct sockaddr_in in = { .sin_family = AF_INET,
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(in);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;
    char text[16];

    ASSERT(bind(fd, (struct sockaddr *) &in, sizeof(in)) == 0);
    ASSERT(getsockname(fd, (struct sockaddr *) &in, &len) == 0);
    port = ntohs(in.sin_port);
    close(fd);
    snprintf(text, sizeof(text), "%d", port);
    setenv(var, text, 1);
    return port;
}

/* A free port for the app (it listens where PORT says). */
static int free_port(void)
{
    return free_port_in("PORT");
}

static struct zt_proc *node_fleet(int n, pid_t *pids, int *port)
{
    char workers[8], want[64];
    struct zt_proc *p;

    *port = free_port();
    snprintf(workers, sizeof(workers), "%d", n);
    p = zt_zc("--node", "-n", "app", "-w", workers, "--shutdown-timeout", "5s",
              "--", "/usr/bin/node", app(), NULL);
    for (int i = 0; i < n; i++) {
        unsigned long id;
        int slot;
        pid_t pid;
        const char *l = zt_wait_line(p, ") started", 5000);

        ASSERT(zt_parse_worker(l, &id, &slot, &pid));
        pids[slot] = pid;
    }
    snprintf(want, sizeof(want), n == 1 ? "%d worker ready" : "all %d workers ready",
             n);
    zt_wait_line(p, want, 15000);
    ASSERT_CONTAINS(p->log, "(Node listening on port ");
    return p;
}

void test_node_cluster_app_serves(void)
{
    pid_t pids[3], seen[3] = { 0 };
    int port, n_seen = 0;
    struct zt_proc *p = node_fleet(3, pids, &port);
    char url[64], cmd[128];

    /* One socket of the primary's, shared by the three. */
    ASSERT_CONTAINS(p->log, "for the Node workers");
    for (int i = 0; i < 200 && n_seen < 3; i++) {
        struct zt_resp r;

        ASSERT_EQ(zt_http_get(port, NULL, &r), 200);
        for (int k = 0; k <= n_seen; k++)
            if (k == n_seen) {
                ASSERT(n_seen < 3);
                seen[n_seen++] = (pid_t) r.pid;
                break;
            } else if (seen[k] == r.pid) {
                break;
            }
    }
    ASSERT_EQ(n_seen, 3);
    for (int i = 0; i < 3; i++)
        ASSERT(seen[i] == pids[0] || seen[i] == pids[1] || seen[i] == pids[2]);
    /* cluster.worker.id is the worker's id, and it is a cluster worker. */
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
    snprintf(cmd, sizeof(cmd), "curl -s --max-time 5 %s", url);
    for (int i = 0; i < 5; i++) {
        char *out = zt_capture(cmd), want[64];
        int id = -1;

        ASSERT(sscanf(out, "{\"id\":%d,", &id) == 1);
        snprintf(want, sizeof(want), "\"zc\":\"%d\",\"isWorker\":true", id);
        ASSERT_CONTAINS(out, want);
        free(out);
    }
    /* The socket it was given does not block: Node accepts until EAGAIN,
     * and a blocking one left a worker stuck in accept(). */
    snprintf(cmd, sizeof(cmd), "curl -s --max-time 5 %sblocking", url);
    {
        char *o = zt_capture(cmd);

        ASSERT_STREQ(o, "non-blocking\n");
        free(o);
    }
    /* kill -9: the slot's worker comes back and serves. */
    ASSERT(kill(pids[1], SIGKILL) == 0);
    zt_wait_line(p, "was killed by signal KILL", 5000);
    zt_wait_line(p, "worker 4 (slot 1, pid", 5000);
    zt_wait_line(p, "(Node listening on port", 10000);
    for (int i = 0; i < 10; i++) {
        struct zt_resp r;

        ASSERT_EQ(zt_http_get(port, NULL, &r), 200);
        ASSERT(r.pid != pids[1]);
    }
    /* An address that is not this host's: the worker hears the error as
     * Node's own primary would say it; the primary says why. */
    snprintf(cmd, sizeof(cmd), "curl -s --max-time 5 %selsewhere", url);
    {
        char *o = zt_capture(cmd);

        ASSERT_STREQ(o, "error EADDRNOTAVAIL\n");
        free(o);
    }
    zt_wait_line(p, "asked to listen on 192.0.2.1 port", 5000);
    /* A line of 2 MiB: that worker's channel is closed, it exits, and it
     * is respawned as a failure; the others serve on. */
    snprintf(cmd, sizeof(cmd), "curl -s --max-time 5 %shuge", url);
    free(zt_capture(cmd));
    zt_wait_line(p, "sent a line over 1048576 bytes on its channel", 5000);
    zt_wait_line(p, "restarting in", 10000);
    for (int i = 0; i < 10; i++) {
        struct zt_resp r;

        ASSERT_EQ(zt_http_get(port, NULL, &r), 200);
    }
    zt_stop_fleet(p);
}

/* The socket the primary bound for the Node workers is the fleet's: a
 * reload does not warn that the fleet has none, and status lists it. */
void test_node_socket_in_status(void)
{
    pid_t pids[1];
    int port;
    struct zt_proc *p = node_fleet(1, pids, &port);
    char cmd[400], want[64], *out;

    ASSERT(kill(p->pid, SIGHUP) == 0);
    zt_wait_line(p, "reload to generation 2 done", 15000);
    ASSERT_EQ(zt_count(p, "no listening sockets of ours"), 0);
    snprintf(cmd, sizeof(cmd), "%s -n app status --json", zt_zclusterctl());
    out = zt_capture(cmd);
    snprintf(want, sizeof(want), "\"sockets\": [\"[::]:%d\"]", port);
    ASSERT_CONTAINS(out, want);
    free(out);
    snprintf(cmd, sizeof(cmd), "%s -n app status", zt_zclusterctl());
    out = zt_capture(cmd);
    snprintf(want, sizeof(want), "sockets: [::]:%d (balance shared)", port);
    ASSERT_CONTAINS(out, want);
    free(out);
    zt_stop_fleet(p);
}

/* 5 rolling reloads under 8 busy connections: not one request fails. */
void test_node_reload_under_load(void)
{
    pid_t pids[2];
    int port;
    struct zt_proc *p = node_fleet(2, pids, &port);
    struct zt_load *l = zt_load_start(port, 8, false);
    struct zt_load_result res;

    for (int g = 2; g <= 6; g++) {
        char want[64];

        ASSERT(kill(p->pid, SIGHUP) == 0);
        snprintf(want, sizeof(want), "reload to generation %d done", g);
        zt_wait_line(p, want, 30000);
    }
    zt_load_stop(l, &res);
    printf("# 5 reloads of 2 Node workers: %llu requests over %llu "
           "connections, %llu failed\n", (unsigned long long) res.ok,
           (unsigned long long) res.connects, (unsigned long long) res.failed);
    ASSERT(res.ok > 100);
    if (res.failed)
        zt_fail(__FILE__, __LINE__, "%llu requests failed; the first: %s",
                (unsigned long long) res.failed, res.first_error);
    zt_stop_fleet(p);
}

/* TERM: Node's disconnect; a request in flight finishes; exit 0. A worker
 * that writes garbage on its channel is told about once, and serves on. */
void test_node_term_drains(void)
{
    pid_t pids[2];
    int port;
    struct zt_proc *p = node_fleet(2, pids, &port);
    char cmd[128], *out;

    snprintf(cmd, sizeof(cmd), "curl -s --max-time 5 http://127.0.0.1:%d/garbage",
             port);
    out = zt_capture(cmd);
    ASSERT_STREQ(out, "sent\n");
    free(out);
    zt_wait_line(p, "sent a message we cannot read", 5000);
    out = zt_capture(cmd);
    free(out);
    snprintf(cmd, sizeof(cmd), "curl -s --max-time 10 http://127.0.0.1:%d/slow "
             "> %s/slow.out &", port, zt_tmpdir());
    ASSERT_EQ(system(cmd), 0);
    /* the request is in before the stop */
    for (uint64_t t0 = zt_now_ms(); zt_now_ms() - t0 < 300; )
        zt_pump(p, 20);
    ASSERT(kill(p->pid, SIGTERM) == 0);
    zt_wait_line(p, "with Node's disconnect", 5000);
    ASSERT_EQ(zt_exit_code(p, 10000), 0);
    /* once per worker: both requests may have reached the same one */
    ASSERT_GE(zt_count(p, "sent a message we cannot read"), 1);
    ASSERT_LE(zt_count(p, "sent a message we cannot read"), 2);
    {
        char path[300], buf[64] = "";
        FILE *f;

        snprintf(path, sizeof(path), "%s/slow.out", zt_tmpdir());
        for (uint64_t t0 = zt_now_ms(); zt_now_ms() - t0 < 3000; ) {
            f = fopen(path, "r");
            if (f && fgets(buf, sizeof(buf), f) && strstr(buf, "slow done")) {
                fclose(f);
                break;
            }
            if (f)
                fclose(f);
            usleep(20000);      /* curl writes it: no event to wait for */
        }
        ASSERT_CONTAINS(buf, "slow done");
    }
    zt_proc_free(p);
    zt_reap_all(3000);
}

/*
 * The spec's own module (tests/data/spec-cluster.js, a copy of the
 * spec's cluster.js, its ./debug stubbed) in
 * the workers, a C primary: sendToPrimary reaches zc_primary_on, the
 * answer reaches onMessage, a broadcast reaches both, and the module's
 * "shutdown" is delivered before Node's disconnect.
 */
void test_node_zero_server_messages(void)
{
    char dir[300], path[400], cmd[900];
    struct zt_proc *p;
    char *argv[6];

    (void) app();                   /* skips without node */
    snprintf(dir, sizeof(dir), "%s/zs", zt_tmpdir());
    ASSERT(mkdir(dir, 0700) == 0);
    /* tests/data/spec-cluster.js is the spec's module as it is given. */
    snprintf(cmd, sizeof(cmd), "cp tests/data/spec-cluster.js %s/cluster.js", dir);
    ASSERT_EQ(system(cmd), 0);
    snprintf(path, sizeof(path), "%s/debug.js", dir);
    zt_write_file(path, "module.exports = (ns) => { const f = (...a) => "
                  "console.error(ns, ...a); return { info: f, warn: f, "
                  "error: f, debug: () => {} }; };\n");
    snprintf(path, sizeof(path), "%s/worker.js", dir);
    zt_write_file(path,
        "const { clusterize: cluster } = require('./cluster.js');\n"
        "cluster((mgr) => {\n"
        "  const id = process.env.ZC_WORKER_ID;\n"
        "  mgr.onMessage('pong', (d) => console.error(`worker ${id} got pong ${JSON.stringify(d)}`));\n"
        "  mgr.onMessage('greet', (d) => console.error(`worker ${id} got greet ${JSON.stringify(d)}`));\n"
        "  mgr.onMessage('shutdown', (d) => console.error(`worker ${id} got shutdown ${JSON.stringify(d)}`));\n"
        "  const text = '# TYPE node_app_requests_total counter\\nnode_app_requests_total 7\\n';\n"
        "  mgr.onMessage('zc.metrics.collect', () => mgr.sendToPrimary('zc.metrics', text));\n"
        "  mgr.onMessage('bigreply', (d) => console.error(`worker ${id} got big ${d.length}`));\n"
        "  mgr.sendToPrimary('big', {});\n"
        "  mgr.sendToPrimary('zc.metrics', text);\n"
        "  require('http').createServer((q, s) => s.end('x')).listen(0);\n"
        "  mgr.sendToPrimary('ping', { from: Number(id), list: [1, 'two'] });\n"
        "});\n");
    argv[0] = (char *) zt_self();
    argv[1] = (char *) "--helper";
    argv[2] = (char *) "node_primary";
    argv[3] = path;
    argv[4] = NULL;
    p = zt_start(argv, NULL);
    zt_wait_line(p, "ping from worker 1: {\"from\":1,\"list\":[1,\"two\"]}", 15000);
    zt_wait_line(p, "worker 1 got pong {\"from\":1,\"list\":[1,\"two\"]}", 15000);
    for (uint64_t t0 = zt_now_ms(); zt_count(p, "got greet {\"n\":2}") < 2; ) {
        ASSERT(zt_now_ms() - t0 < 15000);
        zt_pump(p, 50);
    }
    ASSERT_EQ(zt_count(p, "got pong"), 2);
    /* 600 KB each: written in pieces as each channel takes them, never
     * a line cut short. */
    for (uint64_t t0 = zt_now_ms(); zt_count(p, "got big 614400") < 2; ) {
        ASSERT(zt_now_ms() - t0 < 15000);
        zt_pump(p, 50);
    }
    /* Prometheus text from each (prom-client's register.metrics() would
     * do), summed over the fleet. */
    ASSERT_EQ(zt_metric(zt_metrics_port(p), "node_app_requests_total"), 14);
    ASSERT(kill(p->pid, SIGTERM) == 0);
    ASSERT_EQ(zt_exit_code(p, 10000), 0);
    ASSERT_GE(zt_count(p, "got shutdown {\"timeout\":3000}"), 1);
    zt_proc_free(p);
    zt_reap_all(3000);
}

static const char *sticky_app(void)
{
    (void) app();
    return zt_path("tests/data/node-sticky-app.js");
}

/* Who answers a client at src (curl --interface): its pid. */
static long answered_by(int port, const char *src)
{
    char cmd[200], *out;
    long pid = -1;

    snprintf(cmd, sizeof(cmd), "curl -s --max-time 5 --interface %s "
             "http://127.0.0.1:%d/", src, port);
    out = zt_capture(cmd);
    if (strstr(out, " -> "))
        pid = atol(strstr(out, " -> ") + 4);
    free(out);
    return pid;
}

/* --sticky and least-conn with Node workers: the primary accepts and
 * hands each connection over the channel as the module's primary does; a
 * worker written for it serves it; a client stays on its worker. */
void test_node_sticky_handoff(void)
{
    static const char *const clients[] = { "127.0.0.2", "127.0.0.3",
                                           "127.0.0.4", "127.0.0.5" };
    pid_t pids[2];
    int port;
    struct zt_proc *p;

    p = zt_fleet(2, pids, &port, "--node", "--sticky", "-w", "2", "-l",
                 "127.0.0.1:0", "--", "/usr/bin/node", sticky_app(), NULL);
    ASSERT_CONTAINS(p->log, "(Node online)");
    for (size_t i = 0; i < 4; i++) {
        long first = answered_by(port, clients[i]);

        ASSERT(first == pids[0] || first == pids[1]);
        for (int k = 0; k < 3; k++)
            ASSERT_EQ(answered_by(port, clients[i]), first);
    }
    zt_stop_fleet(p);
    p = zt_fleet(2, pids, &port, "--node", "--balance", "least-conn", "-w", "2",
                 "-l", "127.0.0.1:0", "--", "/usr/bin/node", sticky_app(), NULL);
    for (int i = 0; i < 10; i++) {
        long by = answered_by(port, "127.0.0.1");

        ASSERT(by == pids[0] || by == pids[1]);
    }
    zt_stop_fleet(p);
}

/* A worker that sends a 10 MiB line: the primary reads no further than
 * its limit, closes that worker's channel (Node then ends the worker),
 * starts another, stays small, and the fleet serves on. */
void test_node_huge_line(void)
{
    pid_t pids[2];
    int port;
    struct zt_proc *p = node_fleet(2, pids, &port);
    char cmd[128], *out;
    long before = zt_rss_kib(p->pid);

    snprintf(cmd, sizeof(cmd), "curl -s --max-time 5 http://127.0.0.1:%d/huge",
             port);
    out = zt_capture(cmd);
    ASSERT_STREQ(out, "sent\n");
    free(out);
    zt_wait_line(p, "on its channel: closing it", 5000);
    for (uint64_t t0 = zt_now_ms(); zt_count(p, ") ready in") < 3; zt_pump(p, 50))
        ASSERT(zt_now_ms() - t0 < 15000);
    ASSERT_EQ(zt_count(p, ") started"), 3);
    printf("# the primary before and after: %ld and %ld KiB\n", before,
           zt_rss_kib(p->pid));
    if (!zt_memory_kept())
        ASSERT_LE(zt_rss_kib(p->pid), before + 4 * 1024);
    snprintf(cmd, sizeof(cmd), "curl -s --max-time 5 http://127.0.0.1:%d/",
             port);
    for (int i = 0; i < 4; i++) {
        out = zt_capture(cmd);
        ASSERT_CONTAINS(out, "\"isWorker\":true");
        free(out);
    }
    zt_stop_fleet(p);
}

/* A worker whose drain does not end (a request that is never answered):
 * Node's disconnect, then at --shutdown-timeout the stop signal, then
 * SIGKILL a second later if that did not do. */
void test_node_late_worker_signalled(void)
{
    char cmd[200];
    struct zt_proc *p;
    int port = free_port();

    p = zt_zc("--node", "-n", "app", "-w", "1", "--shutdown-timeout", "1s",
              "--", "/usr/bin/node", app(), NULL);
    zt_wait_line(p, "1 worker ready", 15000);
    snprintf(cmd, sizeof(cmd), "curl -s --max-time 10 -o /dev/null "
             "http://127.0.0.1:%d/hang &", port);
    ASSERT_EQ(system(cmd), 0);
    for (uint64_t t0 = zt_now_ms(); zt_now_ms() - t0 < 300; )
        zt_pump(p, 20);
    ASSERT(kill(p->pid, SIGTERM) == 0);
    zt_wait_line(p, "with Node's disconnect (SIGTERM at the deadline", 5000);
    zt_wait_line(p, "sending the stop signal to 1 remaining worker", 5000);
    zt_wait_line(p, "was killed by signal TERM during shutdown", 5000);
    ASSERT_EQ(zt_exit_code(p, 10000), 0);
    zt_proc_free(p);
    zt_reap_all(12000);
}

/* An -l address on the port the app listens on is the socket its workers
 * get; in the default mode (reuseport) each worker gets its own slot's
 * socket of the group, and both serve. */
void test_node_listener_reuseport(void)
{
    char addr[32];
    pid_t pids[2], seen[2] = { 0 };
    int port = free_port(), lport, n_seen = 0;
    struct zt_proc *p;

    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    p = zt_fleet(2, pids, &lport, "--node", "-w", "2", "-l", addr, "--",
                 "/usr/bin/node", app(), NULL);
    ASSERT_CONTAINS(p->log, "a SO_REUSEPORT group of 2 sockets");
    ASSERT_EQ(lport, port);
    ASSERT_EQ(zt_count(p, "for the Node workers"), 0);
    for (int i = 0; i < 200 && n_seen < 2; i++) {
        struct zt_resp r;

        ASSERT_EQ(zt_http_get(port, NULL, &r), 200);
        ASSERT(r.pid == pids[0] || r.pid == pids[1]);
        if (n_seen == 0 || (n_seen == 1 && seen[0] != r.pid))
            seen[n_seen++] = (pid_t) r.pid;
    }
    ASSERT_EQ(n_seen, 2);
    zt_stop_fleet(p);
}

/* A worker that asks for two servers at once: the second is answered
 * after the first socket's NODE_HANDLE_ACK, as Node's own primary does,
 * and is not bound before: a request never answered leaves nothing. */
void test_node_queries_wait_for_ack(void)
{
    const char *script;
    struct zt_proc *p;

    if (access("/usr/bin/python3", X_OK) != 0)
        zt_skip("python3 is not installed");
    script = zt_path("tests/data/node-no-ack.py");
    (void) free_port();
    (void) free_port_in("PORT2");
    p = zt_zc("--node", "-n", "noack", "-w", "1", "--shutdown-timeout", "1s",
              "--", "/usr/bin/python3", script, NULL);
    zt_wait_line(p, "answers after the ack: 1", 10000);
    zt_wait_line(p, "1 worker ready", 5000);
    ASSERT_CONTAINS(p->log, "answers before the ack: 1");
    ASSERT_CONTAINS(p->log, "port2 refused");
    ASSERT_EQ(zt_count(p, "reply errno 0"), 2);
    ASSERT_EQ(zt_count(p, "reply errno -"), 0);
    zt_stop_fleet(p);
}

/* An app of three servers (two fixed ports and listen(0)), each worker
 * asking for all three before the first acknowledgement: every server
 * of every worker serves, and no worker ever restarts. */
void test_node_three_servers(void)
{
    int port = free_port(), port2 = free_port_in("PORT2"), port3 = 0;
    pid_t pids[2];
    struct zt_proc *p;
    char cmd[128];

    (void) app();
    p = zt_zc("--node", "-n", "three", "-w", "2", "--shutdown-timeout", "2s",
              "--", "/usr/bin/node", zt_path("tests/data/node-three-servers.js"),
              NULL);
    for (int i = 0; i < 2; i++) {
        unsigned long id;
        int slot;
        pid_t pid;

        ASSERT(zt_parse_worker(zt_wait_line(p, ") started", 5000), &id, &slot,
                               &pid));
        pids[slot] = pid;
    }
    zt_wait_line(p, "all 2 workers ready", 15000);
    for (const char *name = "app"; name; name = strcmp(name, "app") == 0
         ? "admin" : strcmp(name, "admin") == 0 ? "any" : NULL) {
        int at = strcmp(name, "app") == 0 ? port
               : strcmp(name, "admin") == 0 ? port2 : port3;
        char *out, want[16];
        long pid = 0;

        snprintf(cmd, sizeof(cmd), "curl -s --max-time 5 "
                 "http://127.0.0.1:%d/", at);
        for (uint64_t t0 = zt_now_ms(); ; ) {
            out = zt_capture(cmd);
            snprintf(want, sizeof(want), "%s ", name);
            ASSERT_CONTAINS(out, want);
            pid = atol(out + strlen(want));
            ASSERT(pid == pids[0] || pid == pids[1]);
            if (port3 == 0)
                port3 = atoi(strchr(out + strlen(want), ' ') + 1);
            free(out);
            /* the third's port is known once it has listened */
            if (port3 > 0 || zt_now_ms() - t0 > 5000)
                break;
        }
        ASSERT(port3 > 0);
    }
    zt_pump(p, 200);
    ASSERT_EQ(zt_count(p, "for the Node workers (asked by"), 3);
    ASSERT_EQ(zt_count(p, "exited"), 0);
    ASSERT_EQ(zt_count(p, "restarting in"), 0);
    ASSERT_EQ(zt_count(p, "EAGAIN"), 0);
    zt_stop_fleet(p);
}

/* Node workers that never say "listening" (a queue's consumer, and one
 * that binds its own socket) are ready by --ready auto's timer after
 * "online": the fleet is ready, /readyz says so, a reload goes through,
 * and a stop does not wait out the shutdown timeout for a consumer whose
 * timer outlives Node's disconnect. */
void test_node_never_listens(void)
{
    static const char *const modes[] = { "consumer", "exclusive" };

    (void) app();
    for (size_t i = 0; i < 2; i++) {
        char body[256];
        const char *b;
        struct zt_proc *p;
        uint64_t t0;
        int mport;

        setenv("MODE", modes[i], 1);
        p = zt_zc("--node", "-n", "quiet", "-w", "2", "--max-surge", "2",
                  "--metrics", "127.0.0.1:0", "--shutdown-timeout", "20s", "--",
                  "/usr/bin/node", zt_path("tests/data/node-no-listen.js"), NULL);
        zt_wait_line(p, "all 2 workers ready", 10000);
        ASSERT_CONTAINS(p->log, "without listening or READY=1");
        mport = zt_metrics_port(p);
        ASSERT_EQ(zt_http_fetch(mport, "/readyz", body, sizeof(body), &b), 200);
        ASSERT(kill(p->pid, SIGHUP) == 0);
        zt_wait_line(p, "reload to generation 2 done", 15000);
        t0 = zt_now_ms();
        ASSERT(kill(p->pid, SIGTERM) == 0);
        ASSERT_EQ(zt_exit_code(p, 15000), 0);
        printf("# %s: stopped in %llu ms\n", modes[i],
               (unsigned long long) (zt_now_ms() - t0));
        ASSERT_LE(zt_now_ms() - t0, 5000);
        ASSERT_EQ(zt_count(p, "shutdown timeout"), 0);
        zt_proc_free(p);
        zt_reap_all(3000);
    }
}

/* Messages an app's worker sends its own primary branch (which does not
 * run under zcluster) are counted, and said once per worker with what to
 * do instead. */
void test_node_primary_branch_messages(void)
{
    pid_t pids[1];
    int port;
    struct zt_proc *p = node_fleet(1, pids, &port);
    char cmd[300], *out;

    snprintf(cmd, sizeof(cmd), "curl -s --max-time 5 http://127.0.0.1:%d/tell",
             port);
    for (int i = 0; i < 2; i++) {
        out = zt_capture(cmd);
        ASSERT_STREQ(out, "told\n");
        free(out);
    }
    zt_wait_line(p, "sent a message with process.send() that is not a "
                 "zcluster message: \"{\"hits\":1}\"", 5000);
    snprintf(cmd, sizeof(cmd), "%s -n app metrics", zt_zclusterctl());
    for (uint64_t t0 = zt_now_ms(); ; ) {
        out = zt_capture(cmd);
        if (strstr(out, "\nzcluster_node_messages_ignored_total 4\n"))
            break;
        ASSERT(zt_now_ms() - t0 < 5000);
        free(out);
        zt_pump(p, 50);
    }
    free(out);
    ASSERT_EQ(zt_count(p, "that is not a zcluster message"), 1);
    zt_stop_fleet(p);
}

/* A worker that leaves by Node's own worker.disconnect(): the primary
 * acknowledges its exitedAfterDisconnect (or Node would wait for ever),
 * and its exit 0 is on purpose, not a crash; the other worker serves on. */
void test_node_worker_disconnects_itself(void)
{
    pid_t pids[2];
    int port;
    struct zt_proc *p = node_fleet(2, pids, &port);
    char cmd[128], *out;

    snprintf(cmd, sizeof(cmd), "curl -s --max-time 5 http://127.0.0.1:%d/leave",
             port);
    out = zt_capture(cmd);
    ASSERT_STREQ(out, "bye\n");
    free(out);
    zt_wait_line(p, "exited with status 0; not restarting it (it stopped on "
                 "purpose)", 10000);
    ASSERT_EQ(zt_count(p, "restarting in"), 0);
    for (int i = 0; i < 5; i++) {
        struct zt_resp r;

        ASSERT_EQ(zt_http_get(port, NULL, &r), 200);
    }
    zt_stop_fleet(p);
}

/* Whether any user may read path: every directory above it searchable
 * by others, the file readable by them (a clone in /root would not be). */
static bool readable_by_all(const char *path)
{
    char dir[PATH_MAX];
    struct stat st;

    if (stat(path, &st) != 0 || !(st.st_mode & S_IROTH))
        return false;
    snprintf(dir, sizeof(dir), "%s", path);
    for (char *slash = strrchr(dir, '/'); slash && slash != dir;
         slash = strrchr(dir, '/')) {
        *slash = '\0';
        if (stat(dir, &st) != 0 || !(st.st_mode & S_IXOTH))
            return false;
    }
    return true;
}

/* A Node app's workers as nobody (--user): its channel (the IPC link),
 * the primary's socket its listen() gets, its readiness, and its output
 * through the primary all work under that uid. */
void test_node_as_another_user(void)
{
    char path[64], *status;
    pid_t pid = -1;
    unsigned long id;
    int slot, port;
    struct zt_proc *p;
    struct zt_resp r;

    if (geteuid() != 0)
        zt_skip("running workers as another user takes root");
    if (!readable_by_all(app()))
        zt_skip("the app must be readable by nobody: the tree is in a "
                "directory only its owner may enter");
    port = free_port();
    p = zt_zc("--node", "-n", "app", "-w", "1", "--user", "nobody", "--control",
              "none", "--", "/usr/bin/node", app(), NULL);
    ASSERT(
        zt_parse_worker(zt_wait_line(p, ") started", 5000), &id, &slot, &pid));
    zt_wait_line(p, "1 worker ready", 15000);
    ASSERT_EQ(zt_http_get(port, NULL, &r), 200);
    ASSERT_EQ(r.pid, pid);
    snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
    status = zt_read_file(path);
    ASSERT(status);
    ASSERT_CONTAINS(status, "Uid:\t65534\t65534\t65534\t65534");
    free(status);
    zt_stop_fleet(p);
}

/*
 * Upgraded in place (docs/upgrade.md): the Node workers keep their
 * channels and the sockets the primary bound for them; the new image
 * reads their messages and drives Node's disconnect at the reload that
 * follows; no request fails.
 */
void test_node_upgrade(void)
{
    char image[PATH_MAX], *out;
    const char *argv[] = { image,
                           "--node",
                           "-n",
                           "nup",
                           "-w",
                           "2",
                           "--shutdown-timeout",
                           "5s",
                           "--",
                           "/usr/bin/node",
                           app(),
                           NULL };
    pid_t kids[8], now[8];
    int port = free_port(), n;
    struct zt_load *ka;
    struct zt_load_result res;
    struct zt_proc *p;

    snprintf(image, sizeof(image), "%s/zc-nup", zt_tmpdir());
    zt_repoint(image, zt_zcluster());
    p = zt_start((char *const *) argv, NULL);
    zt_wait_line(p, "all 2 workers ready", 15000);
    ka = zt_load_start(port, 4, true);
    n = zt_children_of(p->pid, kids, 8);
    ASSERT_EQ(n, 2);
    for (int i = 0; i < 2; i++) {
        zt_repoint(image, i == 0 ? zt_other_zcluster("b") : zt_zcluster());
        ASSERT_EQ(zt_run(&out, 30000, zt_zclusterctl(), "-n", "nup", "upgrade",
                         NULL),
                  0);
        ASSERT_CONTAINS(out, "2 workers, 1 socket, ");
        free(out);
        ASSERT_EQ(zt_children_of(p->pid, now, 8), 2);
        ASSERT((now[0] == kids[0] && now[1] == kids[1]) ||
               (now[0] == kids[1] && now[1] == kids[0]));
    }
    zt_load_stop(ka, &res);
    ASSERT_EQ(res.failed, 0);
    ASSERT(res.ok > 0);
    /* The new image speaks Node's protocol on the channels it took: the
     * old workers are disconnected and exit 0. (Under connection-per-
     * request load: Node's own disconnect closes keep-alive connections
     * with requests on their way, upgrade or not.) */
    ka = zt_load_start(port, 4, false);
    ASSERT_EQ(zt_run(&out, 60000, zt_zclusterctl(), "-n", "nup", "reload",
                     NULL),
              0);
    ASSERT_CONTAINS(out, "reload to generation 2 done");
    free(out);
    zt_wait_line(p, "reload to generation 2 done", 5000);
    ASSERT_EQ(zt_count(p, "exited with status 0; retired"), 2);
    zt_load_stop_at(ka, 2, &res);
    ASSERT_EQ(res.failed, 0);
    zt_stop_fleet(p);
}
