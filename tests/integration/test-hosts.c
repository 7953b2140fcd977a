/*
 * Three hosts behind real HAProxy (Debian's haproxy): three fleets on
 * 127.0.0.2, .3 and .4, each with its metrics endpoint, behind one
 * HAProxy with balance source, hash-type consistent and a health check
 * on /readyz; clients from many source addresses in 127.0.0.0/8. Sticky
 * (each host --sticky --proxy-protocol, HAProxy send-proxy-v2): every
 * client on one host and the slot the spec's hash gives for its real
 * address. Default balance: every client on one host. Then a rolling
 * reload of one host moves nobody, a lame-duck stop of another is marked
 * down before its listeners close, fails nothing, moves only its clients,
 * who come back when it returns, and the hosts' /metrics add up to what
 * the clients sent.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

#define HOSTS 3
#define CLIENTS 48
#define HAPROXY "/usr/sbin/haproxy"

struct host {
    char ip[16];
    int port, mport;
    struct zt_proc *p;
    char name[8]; /* the fleet's, and HAProxy's server */
};

struct world {
    struct host h[HOSTS];
    struct zt_proc *ha;
    int port;
    char stats[300];
    bool sticky;
    pid_t known[512]; /* worker pids seen, and their host */
    int known_host[512];
    int n_known;
    unsigned long sent; /* requests answered 200 */
};

/* A port free on 127.0.0.1 now, for HAProxy's frontend. */
static int free_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;

    ASSERT(fd >= 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd, (struct sockaddr *) &a, sizeof(a)), 0);
    ASSERT_EQ(getsockname(fd, (struct sockaddr *) &a, &len), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void client_ip(int i, char *buf, size_t size)
{
    snprintf(buf, size, "127.0.%d.%d", 10 + i / 200, 1 + i % 200);
}

/* Which host pid is a worker of: remembered once seen among a primary's
 * children, so a retired worker that answered and left is still known. */
static int host_of(struct world *W, pid_t pid)
{
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < W->n_known; i++)
            if (W->known[i] == pid)
                return W->known_host[i];
        for (int h = 0; h < HOSTS; h++) {
            pid_t kids[64];
            int n;

            if (!W->h[h].p)
                continue;
            n = zt_children_of(W->h[h].p->pid, kids, 64);
            for (int k = 0; k < n && W->n_known < 512; k++) {
                bool have = false;

                for (int i = 0; i < W->n_known; i++)
                    have |= W->known[i] == kids[k];
                if (!have) {
                    W->known[W->n_known] = kids[k];
                    W->known_host[W->n_known++] = h;
                }
            }
        }
    }
    return -1;
}

/* One request through HAProxy from src: its host and slot, -1 if it
 * failed. */
static int ask(struct world *W, const char *src, int *slot)
{
    static const char req[] = "GET / HTTP/1.1\r\nHost: shop\r\n"
                              "Connection: close\r\n\r\n";
    static const struct linger no_linger = { 1, 0 };
    struct sockaddr_in a = { .sin_family = AF_INET };
    struct zt_resp r;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), h;

    ASSERT(fd >= 0);
    ASSERT_EQ(inet_pton(AF_INET, src, &a.sin_addr), 1);
    ASSERT_EQ(bind(fd, (struct sockaddr *) &a, sizeof(a)), 0);
    a.sin_port = htons((uint16_t) W->port);
    ASSERT_EQ(inet_pton(AF_INET, "127.0.0.1", &a.sin_addr), 1);
    /* Connection: close, so that the hosts close first and the TIME_WAITs
     * are on their listening ports: thousands of them on ephemeral ports
     * would block the "free" ports later tests pick. No linger either. */
    (void) setsockopt(fd, SOL_SOCKET, SO_LINGER, &no_linger, sizeof(no_linger));
    if (connect(fd, (struct sockaddr *) &a, sizeof(a)) < 0 ||
        send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) !=
            (ssize_t) sizeof(req) - 1 ||
        zt_http_read(fd, &r) != 200) {
        close(fd);
        return -1;
    }
    close(fd);
    W->sent++;
    h = host_of(W, (pid_t) r.pid);
    *slot = r.slot;
    return h;
}

static struct host *start_host(struct world *W, int i, int port, int mport,
                               const char *delay)
{
    struct host *H = &W->h[i];
    char listen[48], metrics[48];
    pid_t pids[3];

    snprintf(H->ip, sizeof(H->ip), "127.0.0.%d", 2 + i);
    snprintf(H->name, sizeof(H->name), "host%d", 2 + i);
    snprintf(listen, sizeof(listen), "%s:%d", H->ip, port);
    snprintf(metrics, sizeof(metrics), "%s:%d", H->ip, mport);
    if (W->sticky)
        H->p = zt_fleet(3, pids, &H->port, "-n", H->name, "-w", "3", "-l",
                        listen, "--metrics", metrics, "--sticky",
                        "--proxy-protocol", "--shutdown-delay", delay, "--",
                        zt_hello(), "--startup-delay", "100", NULL);
    else
        H->p = zt_fleet(3, pids, &H->port, "-n", H->name, "-w", "3", "-l",
                        listen, "--metrics", metrics, "--shutdown-delay", delay,
                        "--", zt_hello(), "--startup-delay", "100", NULL);
    H->mport = zt_metrics_port(H->p);
    return H;
}

/* HAProxy's view of server name: "UP", "DOWN", ... from show stat. */
static void server_status(struct world *W, const char *name, char *out,
                          size_t size)
{
    char buf[16384], want[32];
    const char *l;

    zt_unix_raw(W->stats, "show stat\n", buf, sizeof(buf));
    snprintf(want, sizeof(want), "\nshop_hosts,%s,", name);
    l = strstr(buf, want);
    out[0] = '\0';
    if (!l)
        return;
    l++;
    /* status is the 18th field */
    for (int f = 0; f < 17 && l; f++)
        l = strchr(l, ',') ? strchr(l, ',') + 1 : NULL;
    if (l)
        snprintf(out, size, "%.*s", (int) strcspn(l, ","), l);
}

static void wait_status(struct world *W, const char *name, const char *want)
{
    char st[32];

    for (uint64_t t0 = zt_now_ms();; usleep(20000)) {
        server_status(W, name, st, sizeof(st));
        if (strcmp(st, want) == 0)
            return;
        if (zt_now_ms() - t0 > 10000)
            zt_fail(__FILE__, __LINE__, "HAProxy says %s is '%s', not %s", name,
                    st, want);
    }
}

/* Replaces the first "from" in *text with "to" (a new allocation). */
static void replace(char **text, const char *from, const char *to)
{
    char *at = strstr(*text, from), *out;
    size_t n;

    if (!at)
        zt_fail(__FILE__, __LINE__, "contrib/haproxy/haproxy.cfg has no '%s'",
                from);
    n = strlen(*text) - strlen(from) + strlen(to) + 1;
    out = malloc(n);
    ASSERT(out);
    snprintf(out, n, "%.*s%s%s", (int) (at - *text), *text, to,
             at + strlen(from));
    free(*text);
    *text = out;
}

/* contrib/haproxy/haproxy.cfg as shipped, with this test's addresses,
 * faster checks, and (default balance) no PROXY header. */
static void start_haproxy(struct world *W)
{
    char cfg[300], line[400], from[64],
        *text = zt_read_file("contrib/haproxy/haproxy.cfg");
    char *argv[] = { (char *) HAPROXY, (char *) "-db", (char *) "-f", cfg,
                     NULL };

    ASSERT(text);
    snprintf(cfg, sizeof(cfg), "%s/haproxy.cfg", zt_tmpdir());
    snprintf(W->stats, sizeof(W->stats), "%s/haproxy.sock", zt_tmpdir());
    W->port = free_port();
    snprintf(line, sizeof(line), "stats socket %s mode", W->stats);
    replace(&text, "stats socket /run/haproxy/admin.sock mode", line);
    snprintf(line, sizeof(line), "bind 127.0.0.1:%d", W->port);
    replace(&text, "bind :80", line);
    replace(&text, "inter 1s", "inter 100ms");
    if (!W->sticky)
        replace(&text, "rise 2 send-proxy-v2\n", "rise 2\n");
    for (int i = 0; i < HOSTS; i++) {
        snprintf(from, sizeof(from), "10.0.0.%d:8080 check port 9090", 2 + i);
        snprintf(line, sizeof(line), "%s:%d check port %d", W->h[i].ip,
                 W->h[i].port, W->h[i].mport);
        replace(&text, from, line);
    }
    zt_write_file(cfg, text);
    free(text);
    W->ha = zt_start(argv, NULL);
    for (uint64_t t0 = zt_now_ms(); access(W->stats, F_OK) != 0;
         zt_pump(W->ha, 20))
        ASSERT(zt_now_ms() - t0 < 5000);
    for (int i = 0; i < HOSTS; i++)
        wait_status(W, W->h[i].name, "UP");
}

/* Every client asks once: its host and slot into host[], slot[]. */
static int round_of(struct world *W, int *host, int *slot)
{
    char src[32];
    int failed = 0;

    for (int c = 0; c < CLIENTS; c++) {
        client_ip(c, src, sizeof(src));
        host[c] = ask(W, src, &slot[c]);
        failed += host[c] < 0;
    }
    return failed;
}

/* The 200s host i's workers answered, from its /metrics (on its own
 * address, not 127.0.0.1). */
static double served(struct world *W, int i)
{
    static char buf[256 * 1024];
    static const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n"
                              "Connection: close\r\n\r\n";
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_port = htons((uint16_t) W->h[i].mport) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    size_t n = 0;
    ssize_t r;

    ASSERT(fd >= 0);
    ASSERT_EQ(inet_pton(AF_INET, W->h[i].ip, &a.sin_addr), 1);
    ASSERT_EQ(connect(fd, (struct sockaddr *) &a, sizeof(a)), 0);
    ASSERT_EQ(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL),
              (ssize_t) sizeof(req) - 1);
    while (n < sizeof(buf) - 1 &&
           (r = recv(fd, buf + n, sizeof(buf) - 1 - n, 0)) > 0)
        n += (size_t) r;
    buf[n] = '\0';
    close(fd);
    ASSERT(strstr(buf, "\r\n\r\n"));
    return zt_sample(strstr(buf, "\r\n\r\n") + 4,
                     "hello_requests_total{code=\"200\"}");
}

static void hosts_behind_haproxy(bool sticky)
{
    struct world W = { .sticky = sticky };
    int home[CLIENTS], hslot[CLIENTS], host[CLIENTS], slot[CLIENTS];
    int per_host[HOSTS] = { 0 }, moved = 0, failed = 0, rounds = 0;
    char src[32], *out;
    double sum = 0;
    struct host *h3;
    int port3, mport3;
    uint64_t t_term, down_ms;

    if (access(HAPROXY, X_OK) != 0)
        zt_skip("no haproxy (Debian's haproxy package)");
    /* The file we ship is one HAProxy takes as it is. */
    ASSERT_EQ(zt_run(&out, 5000, HAPROXY, "-c", "-f",
                     "contrib/haproxy/haproxy.cfg", NULL),
              0);
    ASSERT_CONTAINS(out, "Configuration file is valid");
    free(out);
    for (int i = 0; i < HOSTS; i++)
        start_host(&W, i, 0, 0, i == 1 ? "1s" : "0");
    start_haproxy(&W);

    /* Where each client lands, five times over. */
    ASSERT_EQ(round_of(&W, home, hslot), 0);
    for (int r = 0; r < 4; r++) {
        ASSERT_EQ(round_of(&W, host, slot), 0);
        for (int c = 0; c < CLIENTS; c++) {
            ASSERT_EQ(host[c], home[c]);
            if (sticky)
                ASSERT_EQ(slot[c], hslot[c]);
        }
    }
    for (int c = 0; c < CLIENTS; c++) {
        ASSERT(home[c] >= 0);
        per_host[home[c]]++;
        client_ip(c, src, sizeof(src));
        if (sticky)
            ASSERT_EQ(hslot[c], (int) zc_default_ip_hash(src, 3));
    }
    for (int i = 0; i < HOSTS; i++)
        ASSERT(per_host[i] > 0);

    /* A rolling reload of host .2 moves nobody. */
    ASSERT_EQ(zt_run(&out, 20000, zt_zclusterctl(), "-n", "host2", "reload",
                     "--no-wait", NULL),
              0);
    free(out);
    for (uint64_t t0 = zt_now_ms(); !zt_try_line(W.h[0].p,
                                                 "reload to "
                                                 "generation 2 done",
                                                 2);
         rounds++) {
        failed += round_of(&W, host, slot);
        for (int c = 0; c < CLIENTS; c++)
            moved += host[c] >= 0 &&
                     (host[c] != home[c] || (sticky && slot[c] != hslot[c]));
        ASSERT(zt_now_ms() - t0 < 20000);
    }
    printf("# %s: reload of host2: %d rounds of %d clients, %d moved, %d "
           "failed\n",
           sticky ? "sticky" : "default", rounds, CLIENTS, moved, failed);
    ASSERT(rounds > 0);
    ASSERT_EQ(moved, 0);
    ASSERT_EQ(failed, 0);

    /* The hosts' /metrics add up to what the clients were answered. */
    for (int i = 0; i < HOSTS; i++)
        sum += served(&W, i);
    printf("# %s: %lu requests sent, the three /metrics say %.0f\n",
           sticky ? "sticky" : "default", W.sent, sum);
    ASSERT(sum == (double) W.sent);

    /* A lame-duck stop of host .3: marked down before its listeners
     * close, nothing fails, only its clients move. */
    h3 = &W.h[1];
    port3 = h3->port;
    mport3 = h3->mport;
    t_term = zt_now_ms();
    ASSERT_EQ(kill(h3->p->pid, SIGTERM), 0);
    wait_status(&W, h3->name, "DOWN");
    down_ms = zt_now_ms() - t_term;
    ASSERT(!zt_try_line(h3->p, "shutdown delay of 1000 ms over", 2));
    rounds = moved = failed = 0;
    while (!zt_try_line(h3->p, "exiting", 2)) {
        failed += round_of(&W, host, slot);
        for (int c = 0; c < CLIENTS; c++) {
            if (home[c] == 1)
                ASSERT(host[c] != 1);
            else
                moved += host[c] >= 0 && host[c] != home[c];
        }
        rounds++;
        ASSERT(rounds < 1000);
    }
    printf("# %s: lame-duck stop of host3 (%d clients): HAProxy marked it "
           "down %llu ms after TERM (its delay: 1000 ms); %d rounds, %d of "
           "the others moved, %d failed\n",
           sticky ? "sticky" : "default", per_host[1],
           (unsigned long long) down_ms, rounds, moved, failed);
    ASSERT_EQ(zt_exit_code(h3->p, 10000), 0);
    zt_proc_free(h3->p);
    h3->p = NULL;
    ASSERT_EQ(moved, 0);
    ASSERT_EQ(failed, 0);

    /* It comes back on its address: so do its clients. */
    start_host(&W, 1, port3, mport3, "1s");
    wait_status(&W, h3->name, "UP");
    ASSERT_EQ(round_of(&W, host, slot), 0);
    for (int c = 0; c < CLIENTS; c++) {
        ASSERT_EQ(host[c], home[c]);
        if (sticky)
            ASSERT_EQ(slot[c], hslot[c]);
    }
    printf("# %s: %d clients over 3 hosts (%d, %d, %d), %lu requests\n",
           sticky ? "sticky" : "default", CLIENTS, per_host[0], per_host[1],
           per_host[2], W.sent);

    /* Every fleet and HAProxy at once: each reaped as its own. */
    ASSERT_EQ(kill(W.ha->pid, SIGTERM), 0);
    for (int i = 0; i < HOSTS; i++)
        ASSERT_EQ(kill(W.h[i].p->pid, SIGTERM), 0);
    for (int i = 0; i < HOSTS; i++) {
        ASSERT_EQ(zt_exit_code(W.h[i].p, 10000), 0);
        zt_proc_free(W.h[i].p);
    }
    (void) zt_wait_exit(W.ha, 5000); /* HAProxy ends by the signal */
    zt_proc_free(W.ha);
    zt_reap_all(3000);
}

void test_hosts_haproxy_sticky(void)
{
    hosts_behind_haproxy(true);
}

void test_hosts_haproxy_default(void)
{
    hosts_behind_haproxy(false);
}
