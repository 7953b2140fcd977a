/*
 * The metrics endpoint: /metrics, /healthz and /readyz over HTTP (http.c),
 * and the fleet's own metrics (workers by state, restarts, backoff, CPU and
 * memory per slot, reloads, IPC, sticky hand-offs, accept queues, the
 * primary itself) written before every worker's, summed (collect.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/compat.h"
#include "base/log.h"
#include "primary/balance.h"
#include "metrics/set.h"
#include "primary/collect.h"
#include "primary/endpoint.h"
#include "primary/respawn.h"
#include "primary/http.h"
#include "primary/leastconn.h"
#include "primary/recycle.h"
#include "primary/status.h"
#include "primary/sticky.h"

#define NS "zc:metrics"
#define TEXT "text/plain; charset=utf-8"
#define MAX_CONNECTIONS 64     /* then the oldest without a request goes */

struct zc__endpoint {
    struct zc_primary *p;
    struct zc__http *http;
    double start_time_s;            /* unix time */
    long page_size, ticks;
};

static void family(struct zc__buf *b, const char *name, const char *type,
                   const char *help)
{
    zc__buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(struct zc__buf *b, const char *name, const char *labels,
                   double v)
{
    zc__buf_printf(b, "%s%s ", name, labels);
    zc__buf_value(b, v);
    zc__buf_add(b, "\n", 1);
}

static void slot_metrics(struct zc__endpoint *m, struct zc__buf *b)
{
    struct zc_primary *p = m->p;
    unsigned n = p->n_slots, kept = p->n_kept;
    double *cpu = calloc(kept ? kept : 1, sizeof(double));
    double *rss = calloc(kept ? kept : 1, sizeof(double));
    uint64_t now = zc__now_us();
    char l[48];
    int proc = -1;

    if (!cpu || !rss) {
        b->failed = true;
        goto out;
    }
    proc = zc__proc_open();
    for (struct worker *w = p->workers; w; w = w->next) {
        uint64_t ns;
        long long pages;

        if (w->slot_index < kept &&
            zc__status_sample(w, proc, now, &ns, &pages)) {
            cpu[w->slot_index] += (double) ns / 1e9;
            rss[w->slot_index] += (double) pages * (double) m->page_size;
        }
    }
    /* Counters go on for slots scaled away (kept), so they never fall. */
    family(b, "zcluster_slot_restarts_total", "counter",
           "Workers started again in the slot after one exited.");
    for (unsigned i = 0; i < kept; i++) {
        snprintf(l, sizeof(l), "{slot=\"%u\"}", i);
        sample(b, "zcluster_slot_restarts_total", l, (double) p->slots[i]->restarts);
    }
    family(b, "zcluster_slot_failures", "gauge",
           "Failures in a row of the slot's workers (drives the backoff); "
           "0 once its worker stayed ready for --backoff-reset.");
    for (unsigned i = 0; i < n; i++) {
        snprintf(l, sizeof(l), "{slot=\"%u\"}", i);
        sample(b, "zcluster_slot_failures", l,
               zc__respawn_failures(p, p->slots[i], now));
    }
    family(b, "zcluster_slot_backoff_seconds", "gauge",
           "Delay before the slot's next worker starts; 0 when none is waiting.");
    for (unsigned i = 0; i < n; i++) {
        const struct slot *s = p->slots[i];

        snprintf(l, sizeof(l), "{slot=\"%u\"}", i);
        sample(b, "zcluster_slot_backoff_seconds", l, s->state == SLOT_BACKOFF
               ? (double) s->backoff_ms / 1000 : 0);
    }
    family(b, "zcluster_worker_uptime_seconds", "gauge",
           "Time since the slot's current worker started.");
    for (unsigned i = 0; i < n; i++) {
        const struct worker *w = p->slots[i]->w;

        snprintf(l, sizeof(l), "{slot=\"%u\"}", i);
        if (w)
            sample(b, "zcluster_worker_uptime_seconds", l,
                   (double) (now - w->started_us) / 1e6);
    }
    family(b, "zcluster_worker_cpu_seconds_total", "counter",
           "User and system CPU time of the slot's workers, those gone included.");
    for (unsigned i = 0; i < kept; i++) {
        snprintf(l, sizeof(l), "{slot=\"%u\"}", i);
        sample(b, "zcluster_worker_cpu_seconds_total", l,
               cpu[i] + p->slots[i]->metrics.cpu_gone_s);
    }
    family(b, "zcluster_worker_resident_memory_bytes", "gauge",
           "Resident memory of the slot's workers (two during a reload step).");
    for (unsigned i = 0; i < n; i++) {
        snprintf(l, sizeof(l), "{slot=\"%u\"}", i);
        sample(b, "zcluster_worker_resident_memory_bytes", l, rss[i]);
    }
out:
    if (proc >= 0)
        (void) close(proc);
    free(cpu);
    free(rss);
}

/* Connections waiting to be accepted, from TCP_INFO on each listening
 * socket: tcpi_unacked is the queue, tcpi_sacked its limit. A SO_REUSEPORT
 * group (--balance reuseport) has a socket, and a queue, per slot. */
static void listen_metrics(struct zc__endpoint *m, struct zc__buf *b)
{
    struct zc_primary *p = m->p;
    struct tcp_info ti;
    socklen_t len;

    for (int pass = 0; pass < 2; pass++) {
        bool head = false;

        for (size_t i = 0; i < p->n_listeners; i++) {
            const struct listener *ln = &p->listeners[i];
            const char *name = pass ? "zcluster_listen_queue_limit"
                                    : "zcluster_listen_queue_length";
            unsigned n = ln->balance.n ? p->n_slots : 1;

            for (unsigned k = 0; k < n; k++) {
                len = sizeof(ti);
                if (getsockopt(zc__balance_fd(ln, k), IPPROTO_TCP, TCP_INFO,
                               &ti, &len) < 0)
                    break;  /* not TCP */
                if (!head)
                    family(b, name, "gauge", pass
                           ? "Length of the accept queue the listening socket was given."
                           : "Connections waiting in the listening socket's accept queue.");
                head = true;
                zc__buf_printf(b, "%s{listener=\"", name);
                zc__buf_escaped(b, ln->text, true);
                if (ln->balance.n)
                    zc__buf_printf(b, "\",slot=\"%u", k);
                zc__buf_printf(b, "\"} %u\n", pass ? ti.tcpi_sacked : ti.tcpi_unacked);
            }
        }
    }
    if (p->opt.balance != ZC_BALANCE_REUSEPORT)
        return;
    family(b, "zcluster_balance_steering_changes_total", "counter",
           "Times the set of slots new connections go to changed "
           "(--balance reuseport).");
    sample(b, "zcluster_balance_steering_changes_total", "",
           (double) p->balance.steer_changes);
    family(b, "zcluster_balance_slots_steered", "gauge",
           "Slots new connections go to now: those whose worker is ready.");
    sample(b, "zcluster_balance_slots_steered", "", p->balance.n_live);
    family(b, "zcluster_balance_round_robin", "gauge",
           "1 when new connections go round the ready slots (eBPF), 0 when "
           "at random (classic BPF, without CAP_BPF) or by the kernel's hash.");
    sample(b, "zcluster_balance_round_robin", "",
           p->balance.round_robin && p->balance.steered);
    family(b, "zcluster_balance_waited_total", "counter",
           "Connections that were queued in a slot's socket when its worker "
           "died, and waited there for the next one.");
    sample(b, "zcluster_balance_waited_total", "", (double) p->balance.waited);
}

static void sticky_metrics(struct zc__endpoint *m, struct zc__buf *b)
{
    struct zc__sticky_stats st;

    zc__sticky_stats(m->p, &st);
    family(b, "zcluster_sticky_handoffs_total", "counter",
           "Connections the primary handed to a worker (sticky sessions).");
    sample(b, "zcluster_sticky_handoffs_total", "", (double) st.handoffs);
    if (m->p->opt.balance != ZC_BALANCE_STICKY)
        return;
    family(b, "zcluster_sticky_rerouted_total", "counter",
           "Connections handed to another slot than their client's: its "
           "worker was down longer than --sticky-wait.");
    sample(b, "zcluster_sticky_rerouted_total", "", (double) st.rerouted);
    family(b, "zcluster_sticky_waiting", "gauge",
           "Connections waiting in the primary for their slot's worker.");
    sample(b, "zcluster_sticky_waiting", "", (double) st.waiting);
    family(b, "zcluster_sticky_closed_total", "counter",
           "Connections the primary closed without handing them off, by "
           "reason.");
    sample(b, "zcluster_sticky_closed_total", "{reason=\"no_worker\"}",
           (double) st.closed_no_worker);
    sample(b, "zcluster_sticky_closed_total", "{reason=\"proxy\"}",
           (double) st.closed_proxy);
    sample(b, "zcluster_sticky_closed_total", "{reason=\"shutdown\"}",
           (double) st.closed_shutdown);
    family(b, "zcluster_sticky_accept_pauses_total", "counter",
           "Times accepting paused for lack of fds or memory (retried "
           "every 100 ms).");
    sample(b, "zcluster_sticky_accept_pauses_total", "",
           (double) st.accept_pauses);
}

static void least_metrics(struct zc__endpoint *m, struct zc__buf *b)
{
    struct zc_primary *p = m->p;
    struct zc__least_stats st;
    char l[48];

    if (p->opt.balance != ZC_BALANCE_LEAST_CONN)
        return;
    zc__least_stats(p, &st);
    family(b, "zcluster_slot_connections_open", "gauge",
           "Connections handed to the slot's worker and not yet closed, as "
           "least-conn counts them.");
    for (unsigned i = 0; i < p->n_slots; i++)
        if (p->slots[i]->w) {
            snprintf(l, sizeof(l), "{slot=\"%u\"}", i);
            sample(b, "zcluster_slot_connections_open", l,
                   (double) zc__least_open(p->slots[i]->w));
        }
    family(b, "zcluster_least_conn_handoffs_total", "counter",
           "Connections the primary handed to a worker (least-conn).");
    sample(b, "zcluster_least_conn_handoffs_total", "", (double) st.handoffs);
    family(b, "zcluster_least_conn_waiting", "gauge",
           "Connections accepted and waiting for a worker that can take them.");
    sample(b, "zcluster_least_conn_waiting", "", (double) st.waiting);
    family(b, "zcluster_least_conn_holds_total", "counter",
           "Times accepting was held because no worker could take more.");
    sample(b, "zcluster_least_conn_holds_total", "", (double) st.holds);
    family(b, "zcluster_least_conn_closed_total", "counter",
           "Connections the primary closed without handing them off, by "
           "reason.");
    sample(b, "zcluster_least_conn_closed_total", "{reason=\"proxy\"}",
           (double) st.closed_proxy);
    sample(b, "zcluster_least_conn_closed_total", "{reason=\"shutdown\"}",
           (double) st.closed);
}

/* Worker health: the watchdog, recycling, give-up (docs/health.md). */
static void health_metrics(struct zc_primary *p, struct zc__buf *b)
{
    static const char *const states[] = { "starting", "ready", "draining",
                                          "backoff", "failed", "stopped",
                                          "empty" };
    unsigned n[7] = { 0 };
    char l[48];

    for (unsigned i = 0; i < p->n_slots; i++) {
        const char *st = zc__status_slot_state(p->slots[i]);

        for (int k = 0; k < 7; k++)
            n[k] += strcmp(st, states[k]) == 0;
    }
    family(b, "zcluster_slot_state", "gauge",
           "Slots by state: their worker's (starting, ready, draining), or "
           "what they wait for (backoff, failed: given up on, stopped, empty).");
    for (int k = 0; k < 7; k++) {
        snprintf(l, sizeof(l), "{state=\"%s\"}", states[k]);
        sample(b, "zcluster_slot_state", l, n[k]);
    }
    family(b, "zcluster_watchdog_misses_total", "counter",
           "Workers silent for a watchdog period, by what was done.");
    sample(b, "zcluster_watchdog_misses_total", "{action=\"kill\"}",
           (double) p->health.misses[ZC_WATCHDOG_KILL]);
    sample(b, "zcluster_watchdog_misses_total", "{action=\"log\"}",
           (double) p->health.misses[ZC_WATCHDOG_LOG]);
    family(b, "zcluster_recycles_total", "counter",
           "Workers replaced on purpose, new one first, by reason.");
    for (int k = ZC_RECYCLE_LIFETIME; k <= ZC_RECYCLE_MEMORY; k++) {
        snprintf(l, sizeof(l), "{reason=\"%s\"}", zc__recycle_reason_name(k));
        sample(b, "zcluster_recycles_total", l, (double) p->health.recycles[k]);
    }
    family(b, "zcluster_give_ups_total", "counter",
           "Times a slot failed --give-up N times within its window and "
           "stopped respawning.");
    sample(b, "zcluster_give_ups_total", "", (double) p->health.give_ups);
}

static void fleet_metrics(struct zc__endpoint *m, struct zc__buf *b)
{
    static const char *const states[] = { "starting", "ready", "draining" };
    static const char *const outcomes[] = { "done", "failed", "interrupted" };
    struct zc_primary *p = m->p;
    unsigned by_state[3] = { 0 };
    /* Without collection (no --metrics), the exited workers' counts are
     * not kept: only the living ones are summed. */
    uint64_t sent = p->metrics ? p->metrics->ipc_sent_gone : 0;
    uint64_t received = p->metrics ? p->metrics->ipc_received_gone : 0;
    unsigned long long ticks;
    long long pages;
    char l[48];

    for (struct worker *w = p->workers; w; w = w->next) {
        if (w->state <= W_DRAINING)
            by_state[w->state]++;
        sent += w->ipc.sent;
        received += w->ipc.received;
    }
    family(b, "zcluster_workers", "gauge", "Worker processes by state.");
    for (int i = 0; i < 3; i++) {
        snprintf(l, sizeof(l), "{state=\"%s\"}", states[i]);
        sample(b, "zcluster_workers", l, by_state[i]);
    }
    family(b, "zcluster_slots", "gauge", "Worker slots configured.");
    sample(b, "zcluster_slots", "", p->n_slots);
    family(b, "zcluster_generation", "gauge",
           "Generation the fleet runs: of the last reload that went "
           "through; 1 before any.");
    sample(b, "zcluster_generation", "", (double) p->running_generation);
    slot_metrics(m, b);
    health_metrics(p, b);
    family(b, "zcluster_reloads_total", "counter", "Rolling reloads by outcome.");
    for (int i = 0; i < 3; i++) {
        snprintf(l, sizeof(l), "{outcome=\"%s\"}", outcomes[i]);
        sample(b, "zcluster_reloads_total", l, (double) p->reload_outcomes[i]);
    }
    family(b, "zcluster_ipc_messages_total", "counter",
           "Typed messages between the primary and its workers.");
    sample(b, "zcluster_ipc_messages_total", "{direction=\"received\"}",
           (double) received);
    sample(b, "zcluster_ipc_messages_total", "{direction=\"sent\"}", (double) sent);
    family(b, "zcluster_ipc_dropped_total", "counter",
           "Messages not delivered: a worker's queue was full, or its frame "
           "was refused.");
    sample(b, "zcluster_ipc_dropped_total", "", (double) p->ipc_dropped);
    if (p->metrics) {
        family(b, "zcluster_metrics_series", "gauge",
               "Series of the workers' metrics the fleet holds (at most "
               "50000; a worker's snapshot at most 10000).");
        sample(b, "zcluster_metrics_series", "",
               (double) zc__mset_series(p->metrics->set));
        family(b, "zcluster_metrics_series_refused_total", "counter",
               "New series of workers' metrics left out: past the fleet's "
               "or a snapshot's limit.");
        sample(b, "zcluster_metrics_series_refused_total", "",
               (double) zc__mset_refused(p->metrics->set));
    }
    if (p->opt.node) {
        family(b, "zcluster_node_messages_ignored_total", "counter",
               "Messages Node workers sent with process.send() that are not "
               "zcluster's: the app's own primary branch would have read them.");
        sample(b, "zcluster_node_messages_ignored_total", "",
               (double) p->node_stats.ignored);
    }
    sticky_metrics(m, b);
    least_metrics(m, b);
    listen_metrics(m, b);
    family(b, "zcluster_primary_start_time_seconds", "gauge",
           "When the primary started, in seconds since the epoch.");
    sample(b, "zcluster_primary_start_time_seconds", "", m->start_time_s);
    if (zc__proc_stat(getpid(), &ticks, &pages)) {
        family(b, "zcluster_primary_cpu_seconds_total", "counter",
               "User and system CPU time of the primary.");
        sample(b, "zcluster_primary_cpu_seconds_total", "",
               (double) ticks / (double) m->ticks);
        family(b, "zcluster_primary_resident_memory_bytes", "gauge",
               "Resident memory of the primary.");
        sample(b, "zcluster_primary_resident_memory_bytes", "",
               (double) pages * (double) m->page_size);
    }
}

static void metrics(struct zc__endpoint *m, struct zc__http_req *r)
{
    struct zc__buf out = { 0 };

    /* On the reserved lane, what the workers last reported, now. */
    if (!zc__http_woken(r) && zc__http_may_wait(r) &&
        zc__collect_scrape_wait(m->p)) {
        zc__http_wait(r);
        return;
    }
    zc__endpoint_render(m->p, &out);
    if (out.failed) {
        free(out.data);
        zc__http_reply_text(r, 500, TEXT, "out of memory\n");
        return;
    }
    zc__http_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8",
                   out.data, out.len, NULL);
}

void zc__endpoint_render(struct zc_primary *p, struct zc__buf *out)
{
    struct zc__endpoint own = { .p = p, .page_size = sysconf(_SC_PAGESIZE),
                                .ticks = sysconf(_SC_CLK_TCK) };
    struct timespec ts;

    if (!p->endpoint) {
        /* Without --metrics: the fleet's own families, its start time
         * from the primary's uptime. */
        clock_gettime(CLOCK_REALTIME, &ts);
        own.start_time_s = (double) ts.tv_sec + ts.tv_nsec / 1e9 -
                           (double) (zc__now_us() - p->start_us) / 1e6;
    }
    fleet_metrics(p->endpoint ? p->endpoint : &own, out);
    if (p->metrics)
        zc__collect_render(p, out);
}

static void readyz(struct zc__endpoint *m, struct zc__http_req *r)
{
    struct zc_primary *p = m->p;
    struct zc__buf out = { 0 };

    unsigned failed = zc__status_failed_slots(p);

    if (!p->shutting_down && p->n_ready > 0 && failed == 0) {
        zc__http_reply_text(r, 200, TEXT, "ready\n");
        return;
    }
    /* Serving still, with fewer: ready for a load balancer, degraded for
     * whoever reads why. */
    if (!p->shutting_down && p->n_ready > 0) {
        zc__buf_printf(&out, "ready, degraded: %u of %u slots failed (given "
                       "up on); %u worker%s ready\n", failed, p->n_slots,
                       p->n_ready, PLURAL(p->n_ready));
        zc__http_reply(r, 200, TEXT, out.data, out.failed ? 0 : out.len, NULL);
        return;
    }
    if (p->shutting_down)
        zc__buf_printf(&out, "not ready: shutting down\n");
    else
        zc__buf_printf(&out, "not ready: no worker is ready yet (%u "
                       "running)\n", p->n_alive);
    zc__http_reply(r, 503, TEXT, out.data, out.failed ? 0 : out.len, NULL);
}

static void on_request(void *ud, struct zc__http_req *r)
{
    struct zc__endpoint *m = ud;
    const char *method = zc__http_method(r), *path = zc__http_path(r);

    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        zc__http_reply(r, 405, TEXT,
                       strdup("only GET and HEAD are served here\n"),
                       strlen("only GET and HEAD are served here\n"),
                       "GET, HEAD");
        return;
    }
    if (strcmp(path, "/metrics") == 0)
        metrics(m, r);
    else if (strcmp(path, "/healthz") == 0)
        zc__http_reply_text(r, 200, TEXT, "ok\n");
    else if (strcmp(path, "/readyz") == 0)
        readyz(m, r);
    else
        zc__http_reply_text(r, 404, TEXT, "not found: this endpoint serves "
                            "/metrics, /healthz and /readyz\n");
}

/* Opens the endpoint at p->opt.metrics, after zc__collect_start(). Returns
 * 0 or -errno (logged). */
int zc__endpoint_start(struct zc_primary *p)
{
    struct zc__http_limits lim = { .timeout_ms = p->opt.metrics_timeout_ms,
                                   .max_conns = MAX_CONNECTIONS };
    struct zc__http_cb cb = { .request = on_request };
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    struct zc__endpoint *m;
    struct zc__addr a;
    struct timespec ts;
    int fd, r;

    if (zc__addr_parse(p->opt.metrics, &a) < 0 ||
        (a.ss.ss_family != AF_INET && a.ss.ss_family != AF_INET6)) {
        zc_log(ZC_LOG_ERROR, NS, "invalid metrics address '%s': expected "
               "HOST:PORT, [V6]:PORT or :PORT", p->opt.metrics);
        return -EINVAL;
    }
    r = zc__addr_listen(&a, 0, &fd);
    if (r < 0) {
        zc_log(ZC_LOG_ERROR, NS, "cannot serve metrics on %s: %s",
               p->opt.metrics, zc_strerror(r));
        return r;
    }
    m = calloc(1, sizeof(*m));
    if (!m) {
        (void) close(fd);
        return -ENOMEM;
    }
    m->p = p;
    m->page_size = sysconf(_SC_PAGESIZE);
    m->ticks = sysconf(_SC_CLK_TCK);
    clock_gettime(CLOCK_REALTIME, &ts);
    m->start_time_s = (double) ts.tv_sec + ts.tv_nsec / 1e9;
    if (getsockname(fd, (struct sockaddr *) &ss, &len) == 0)
        zc__addr_format((struct sockaddr *) &ss, len, p->metrics_addr,
                        sizeof(p->metrics_addr));
    else
        snprintf(p->metrics_addr, sizeof(p->metrics_addr), "%s", p->opt.metrics);
    cb.ud = m;
    r = zc__http_start(&m->http, &p->loop, fd, &lim, &cb);
    if (r < 0) {
        zc_log(ZC_LOG_ERROR, NS, "cannot start the metrics endpoint: %s",
               zc_strerror(r));
        free(m);
        return r;
    }
    p->endpoint = m;
    p->metrics->http = m->http;
    zc_log(ZC_LOG_INFO, NS, "serving http://%s/metrics, /healthz and /readyz",
           p->metrics_addr);
    return 0;
}

void zc__endpoint_stop(struct zc_primary *p)
{
    struct zc__endpoint *m = p->endpoint;

    if (!m)
        return;
    zc__http_stop(m->http);
    p->metrics_addr[0] = '\0';
    if (p->metrics)
        p->metrics->http = NULL;
    free(m);
    p->endpoint = NULL;
}
