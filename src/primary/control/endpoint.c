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
#include "metrics/set.h"
#include "primary/control/endpoint.h"
#include "primary/control/http.h"
#include "primary/control/status.h"
#include "primary/core/output.h"
#include "primary/core/collect.h"
#include "primary/core/node.h"
#include "primary/core/sample.h"
#include "primary/core/words.h"
#include "primary/health/health.h"
#include "primary/life/respawn.h"
#include "primary/life/shutdown.h"
#include "primary/spread/balance.h"
#include "primary/spread/router.h"

#define NS "zc:metrics"
#define TEXT "text/plain; charset=utf-8"
#define MAX_CONNECTIONS 64     /* then the oldest without a request goes */

struct zc__endpoint {
    struct zc_primary *p;
    struct zc__http *http;
    double start_time_s;            /* unix time */
    long page_size, ticks;
};

/* What a per-slot row is read from: the fleet, and each kept slot's
 * workers' CPU time and resident memory, summed once per scrape. */
struct slot_ctx {
    struct zc_primary *p;
    uint64_t now;
    double *cpu, *rss;
};

static bool restarts_of(const struct slot_ctx *c, unsigned i, double *v)
{
    *v = (double) c->p->slots[i]->restarts;
    return true;
}

static bool failures_of(const struct slot_ctx *c, unsigned i, double *v)
{
    *v = zc__respawn_failures(c->p, c->p->slots[i], c->now);
    return true;
}

static bool backoff_of(const struct slot_ctx *c, unsigned i, double *v)
{
    const struct slot *s = c->p->slots[i];

    *v = s->state == SLOT_BACKOFF ? (double) s->backoff_ms / 1000 : 0;
    return true;
}

static bool uptime_of(const struct slot_ctx *c, unsigned i, double *v)
{
    const struct worker *w = c->p->slots[i]->w;

    if (w)
        *v = (double) (c->now - w->started_us) / 1e6;
    return w != NULL;
}

static bool heard_of(const struct slot_ctx *c, unsigned i, double *v)
{
    const struct worker *w = c->p->slots[i]->w;

    return w && zc__health_heard(w, c->now, v);
}

static bool steered_of(const struct slot_ctx *c, unsigned i, double *v)
{
    uint64_t n;

    if (!zc__balance_steered(c->p, i, &n))
        return false;
    *v = (double) n;
    return true;
}

static bool cpu_of(const struct slot_ctx *c, unsigned i, double *v)
{
    *v = c->cpu[i] + zc__collect_cpu_gone(c->p->slots[i]);
    return true;
}

static bool rss_of(const struct slot_ctx *c, unsigned i, double *v)
{
    *v = c->rss[i];
    return true;
}

/*
 * The per-slot families, a row each. Counters go on for slots scaled away
 * (kept), so they never fall; gauges are of the slots there are now. A
 * getter that returns false has no sample for the slot.
 */
static const struct slot_family {
    const char *name, *type, *help;
    bool kept;
    bool (*get)(const struct slot_ctx *c, unsigned i, double *v);
} slot_families[] = {
    { "zcluster_slot_restarts_total", "counter",
      "Workers started again in the slot after one exited.", true,
      restarts_of },
    { "zcluster_slot_failures", "gauge",
      "Failures in a row of the slot's workers (drives the backoff); "
      "0 once its worker stayed ready for --backoff-reset.",
      false, failures_of },
    { "zcluster_slot_backoff_seconds", "gauge",
      "Delay before the slot's next worker starts; 0 when none is waiting.",
      false, backoff_of },
    { "zcluster_worker_uptime_seconds", "gauge",
      "Time since the slot's current worker started.", false, uptime_of },
    { "zcluster_worker_watchdog_heard_seconds", "gauge",
      "Time since the watchdog last heard from the slot's worker (a ping or "
      "WATCHDOG=1); no sample while it is not watched.",
      false, heard_of },
    { "zcluster_slot_connections_steered_total", "counter",
      "Connections the kernel sent to the slot's socket by the eBPF "
      "round-robin (--balance reuseport as root); no sample where nothing "
      "counts them (random steering).",
      true, steered_of },
    { "zcluster_worker_cpu_seconds_total", "counter",
      "User and system CPU time of the slot's workers, those gone included.",
      true, cpu_of },
    { "zcluster_worker_resident_memory_bytes", "gauge",
      "Resident memory of the slot's workers (two during a reload step).",
      false, rss_of },
};

#define N_SLOT_FAMILIES (sizeof(slot_families) / sizeof(slot_families[0]))

static void slot_family(const struct slot_ctx *c, const struct slot_family *f,
                        struct zc__buf *b)
{
    unsigned n = f->kept ? c->p->n_kept : c->p->n_slots;
    char l[48];
    double v;

    zc__buf_family(b, f->name, f->type, f->help);
    for (unsigned i = 0; i < n; i++)
        if (f->get(c, i, &v)) {
            snprintf(l, sizeof(l), "{slot=\"%u\"}", i);
            zc__buf_sample(b, f->name, l, v);
        }
}

static void slot_metrics(struct zc__endpoint *m, struct zc__buf *b)
{
    struct zc_primary *p = m->p;
    unsigned kept = p->n_kept;
    struct slot_ctx c = { .p = p,
                          .now = zc__now_us(),
                          .cpu = calloc(kept ? kept : 1, sizeof(double)),
                          .rss = calloc(kept ? kept : 1, sizeof(double)) };
    int proc = -1;

    if (!c.cpu || !c.rss) {
        b->failed = true;
        goto out;
    }
    proc = zc__proc_open();
    for (struct worker *w = p->workers; w; w = w->next) {
        uint64_t ns;
        long long pages;

        if (w->slot_index < kept &&
            zc__sample_worker(w, proc, c.now, &ns, &pages)) {
            c.cpu[w->slot_index] += (double) ns / 1e9;
            c.rss[w->slot_index] += (double) pages * (double) m->page_size;
        }
    }
    for (size_t k = 0; k < N_SLOT_FAMILIES; k++)
        slot_family(&c, &slot_families[k], b);
out:
    if (proc >= 0)
        (void) close(proc);
    free(c.cpu);
    free(c.rss);
}

/* Connections waiting to be accepted, from TCP_INFO on each listening
 * socket: tcpi_unacked is the queue, tcpi_sacked its limit. A SO_REUSEPORT
 * group (--balance reuseport) has a socket, and a queue, per slot. */
static void listen_metrics(struct zc__endpoint *m, struct zc__buf *b)
{
    struct balance_snapshot bal;
    struct zc_primary *p = m->p;
    struct tcp_info ti;
    socklen_t len;

    static const char limit_help[] =
        "Length of the accept queue the listening socket was given.";
    static const char length_help[] =
        "Connections waiting in the listening socket's accept queue.";

    for (int pass = 0; pass < 2; pass++) {
        bool head = false;

        for (size_t i = 0; i < p->n_listeners; i++) {
            const struct listener *ln = &p->listeners[i];
            const char *name = pass ? "zcluster_listen_queue_limit"
                                    : "zcluster_listen_queue_length";
            unsigned n = ln->balance.n ? p->n_slots : 1;

            for (unsigned k = 0; k < n; k++) {
                int fd = zc__listener_fd(ln, k);

                if (fd < 0)
                    continue; /* abandoned, made again when served */
                len = sizeof(ti);
                if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
                    break; /* not TCP */
                if (!head)
                    zc__buf_family(b, name, "gauge",
                                   pass ? limit_help : length_help);
                head = true;
                zc__buf_printf(b, "%s{listener=\"", name);
                zc__buf_escaped(b, ln->text, true);
                if (ln->balance.n)
                    zc__buf_printf(b, "\",slot=\"%u", k);
                zc__buf_printf(b, "\"} %u\n",
                               pass ? ti.tcpi_sacked : ti.tcpi_unacked);
            }
        }
    }
    if (p->opt.balance != ZC_BALANCE_REUSEPORT)
        return;
    zc__balance_snapshot(p, &bal);
    zc__buf_metric(b, "zcluster_balance_steering_changes_total", "counter",
                   "Times the set of slots new connections go to changed "
                   "(--balance reuseport).",
                   (double) bal.steer_changes);
    zc__buf_metric(b, "zcluster_balance_slots_steered", "gauge",
                   "Slots new connections go to now: those whose worker is "
                   "ready.",
                   bal.n_live);
    zc__buf_metric(b, "zcluster_balance_round_robin", "gauge",
                   "1 when new connections go round the ready slots (eBPF), 0 "
                   "when at random (classic BPF, without CAP_BPF) or by the "
                   "kernel's hash.",
                   bal.round_robin && bal.steered);
    zc__buf_family(b, "zcluster_balance_requeued_total", "counter",
                   "Connections queued on the socket of a slot left without "
                   "a worker (it died, was scaled away or given up on) or "
                   "whose worker took none of them, by fate: moved to another "
                   "slot by the kernel (eBPF round-robin), or reset.");
    zc__buf_sample(b, "zcluster_balance_requeued_total", "{fate=\"moved\"}",
                   (double) bal.moved);
    zc__buf_sample(b, "zcluster_balance_requeued_total", "{fate=\"reset\"}",
                   (double) bal.reset);
    zc__buf_metric(b, "zcluster_balance_taken_out_total", "counter",
                   "Times a ready worker was steered around because it took "
                   "none of the connections waiting on its socket, or was "
                   "stopped (SIGSTOP).",
                   (double) bal.taken_out);
    zc__buf_metric(b, "zcluster_balance_slots_out", "gauge",
                   "Slots steered around now: their worker takes none of "
                   "what waits on its socket, or is stopped.",
                   bal.n_out);
    zc__buf_metric(b, "zcluster_balance_queue_watch_ticks_total", "counter",
                   "Looks at every slot's accept queue: only while "
                   "connections wait somewhere or a slot is out.",
                   (double) bal.watch_ticks);
    zc__buf_metric(b, "zcluster_balance_waited_total", "counter",
                   "Connections that were queued in a slot's socket when its "
                   "worker died, and waited there for the next one.",
                   (double) bal.waited);
}

/* Worker health: the watchdog, recycling, give-up (docs/health.md). */
static void health_metrics(struct zc_primary *p, struct zc__buf *b)
{
    unsigned n[VIEW_COUNT] = { 0 };
    struct health_snapshot h;
    char l[48];

    zc__health_snapshot(p, &h);
    for (unsigned i = 0; i < p->n_slots; i++)
        n[zc__slot_view(p->slots[i])]++;
    zc__buf_family(b, "zcluster_slot_state", "gauge",
                   "Slots by state: their worker's (starting, ready, "
                   "draining), or what they wait for (backoff, failed: given "
                   "up on, stopped, empty).");
    for (int k = 0; k < VIEW_COUNT; k++) {
        snprintf(l, sizeof(l), "{state=\"%s\"}", zc__slot_view_name(k));
        zc__buf_sample(b, "zcluster_slot_state", l, n[k]);
    }
    zc__buf_family(b, "zcluster_watchdog_misses_total", "counter",
                   "Workers silent for a watchdog period, by what was done.");
    for (int k = 0; k < ZC__WATCHDOG_ACTIONS; k++) {
        snprintf(l, sizeof(l), "{action=\"%s\"}", zc__watchdog_action_name(k));
        zc__buf_sample(b, "zcluster_watchdog_misses_total", l,
                       (double) h.misses[k]);
    }
    zc__buf_family(b, "zcluster_recycles_total", "counter",
                   "Workers replaced on purpose, new one first, by reason.");
    for (int k = 0; k < ZC__RECYCLE_REASONS; k++) {
        snprintf(l, sizeof(l), "{reason=\"%s\"}", zc__recycle_reason_name(k));
        zc__buf_sample(b, "zcluster_recycles_total", l, (double) h.recycles[k]);
    }
    zc__buf_metric(b, "zcluster_give_ups_total", "counter",
                   "Times a slot failed --give-up N times within its window "
                   "and stopped respawning.",
                   (double) h.give_ups);
}

/* Typed messages both ways, what the collection holds, Node's messages
 * that are not ours. Without collection (no --metrics), the exited
 * workers' counts are not kept: only the living ones are summed. */
static void ipc_metrics(struct zc_primary *p, struct zc__buf *b)
{
    struct collect_snapshot col;
    uint64_t sent, received;

    zc__collect_snapshot(p, &col);
    sent = col.ipc_sent_gone;
    received = col.ipc_received_gone;
    for (struct worker *w = p->workers; w; w = w->next) {
        sent += w->ipc.sent;
        received += w->ipc.received;
    }
    zc__buf_family(b, "zcluster_ipc_messages_total", "counter",
                   "Typed messages between the primary and its workers.");
    zc__buf_sample(b, "zcluster_ipc_messages_total", "{direction=\"received\"}",
                   (double) received);
    zc__buf_sample(b, "zcluster_ipc_messages_total", "{direction=\"sent\"}",
                   (double) sent);
    zc__buf_metric(b, "zcluster_ipc_dropped_total", "counter",
                   "Messages not delivered: a worker's queue was full, or its "
                   "frame was refused.",
                   (double) p->ipc_dropped);
    if (col.on) {
        char help[128];

        snprintf(help, sizeof(help),
                 "Series of the workers' metrics the "
                 "fleet holds (at most %d; a worker's snapshot at most %d).",
                 ZC__FLEET_SERIES_MAX, ZC__SNAPSHOT_SERIES_MAX);
        zc__buf_metric(b, "zcluster_metrics_series", "gauge", help,
                       (double) col.series);
        zc__buf_metric(b, "zcluster_metrics_series_refused_total", "counter",
                       "New series of workers' metrics left out: past the "
                       "fleet's or a snapshot's limit.",
                       (double) col.refused);
    }
    if (p->opt.node) {
        zc__buf_family(b, "zcluster_node_messages_ignored_total", "counter",
                       "Messages Node workers sent with process.send() that "
                       "are not zcluster's: the app's own primary branch would "
                       "have read them.");
        zc__buf_sample(b, "zcluster_node_messages_ignored_total", "",
                       (double) zc__node_ignored(p));
    }
}

/* The workers' output through the primary (docs/logging.md); nothing
 * with --output inherit. */
static void output_metrics(const struct zc_primary *p, struct zc__buf *b)
{
    static const struct zc__buf_row rows[] = {
        { "zcluster_output_lines_total", "counter",
          "Lines of the workers' output the primary wrote or queued.", "",
          offsetof(struct zc__output_stats, lines) },
        { "zcluster_output_bytes_total", "counter",
          "Bytes the primary read from the workers' stdout and stderr.", "",
          offsetof(struct zc__output_stats, bytes) },
        { "zcluster_output_dropped_lines_total", "counter",
          "Lines not written: --output-overflow drop, past the queue's "
          "limit, or a stdout that cannot be written.",
          "", offsetof(struct zc__output_stats, dropped) },
        { "zcluster_output_waits_total", "counter",
          "Times the primary stopped reading the workers' output for a slow "
          "stdout or stderr.",
          "", offsetof(struct zc__output_stats, waits) },
    };
    struct zc__output_stats st;

    if (!zc__output_stats(p, &st))
        return;
    zc__buf_rows(b, rows, sizeof(rows) / sizeof(rows[0]), &st);
    zc__buf_metric(b, "zcluster_output_queued_bytes", "gauge",
                   "Bytes of output waiting for the primary's stdout and "
                   "stderr.",
                   (double) st.queued);
    zc__buf_metric(b, "zcluster_output_paused", "gauge",
                   "1 while the primary waits for its stdout before reading "
                   "more of the workers' output.",
                   st.paused);
}

static void fleet_metrics(struct zc__endpoint *m, struct zc__buf *b)
{
    struct zc_primary *p = m->p;
    unsigned by_view[VIEW_COUNT] = { 0 };
    unsigned long long ticks;
    long long pages;
    char l[48];

    for (struct worker *w = p->workers; w; w = w->next)
        if (w->state != W_EXITED)
            by_view[zc__worker_view(w)]++;
    zc__buf_family(b, "zcluster_workers", "gauge",
                   "Worker processes by state.");
    for (int v = VIEW_STARTING; v <= VIEW_DRAINING; v++) {
        snprintf(l, sizeof(l), "{state=\"%s\"}", zc__slot_view_name(v));
        zc__buf_sample(b, "zcluster_workers", l, by_view[v]);
    }
    zc__buf_metric(b, "zcluster_slots", "gauge", "Worker slots configured.",
                   p->n_slots);
    zc__buf_metric(b, "zcluster_generation", "gauge",
                   "Generation the fleet runs: of the last reload that went "
                   "through; 1 before any.",
                   (double) p->running_generation);
    slot_metrics(m, b);
    health_metrics(p, b);
    zc__buf_family(b, "zcluster_reloads_total", "counter",
                   "Rolling reloads by outcome.");
    for (int i = 0; i < ZC__RELOAD_OUTCOMES; i++) {
        snprintf(l, sizeof(l), "{outcome=\"%s\"}", zc__outcome_name(i));
        zc__buf_sample(b, "zcluster_reloads_total", l,
                       (double) p->reload_outcomes[i]);
    }
    ipc_metrics(p, b);
    output_metrics(p, b);
    if (p->router)
        p->router->metrics(p, b);
    /* Said in every mode since sticky sessions came, 0 without them. */
    if (p->router != &zc__sticky_router)
        zc__buf_metric(b, "zcluster_sticky_handoffs_total", "counter",
                       "Connections the primary handed to a worker (sticky "
                       "sessions).",
                       0);
    listen_metrics(m, b);
    zc__buf_metric(b, "zcluster_primary_start_time_seconds", "gauge",
                   "When the primary started, in seconds since the epoch.",
                   m->start_time_s);
    if (zc__proc_stat(getpid(), &ticks, &pages)) {
        zc__buf_metric(b, "zcluster_primary_cpu_seconds_total", "counter",
                       "User and system CPU time of the primary.",
                       (double) ticks / (double) m->ticks);
        zc__buf_metric(b, "zcluster_primary_resident_memory_bytes", "gauge",
                       "Resident memory of the primary.",
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
    /* From the stop asked for (--shutdown-delay: before the drain, while
     * the fleet still serves), so that balancers stop sending in time. */
    bool going = p->shutting_down || p->lame_duck;
    unsigned failed = zc__status_failed_slots(p);
    struct balance_snapshot bal;

    zc__balance_snapshot(p, &bal);
    if (!going && p->n_ready > 0 && bal.all_stuck) {
        zc__buf_printf(&out,
                       "not ready: no worker takes connections (%u "
                       "ready, every one steered to has left what waits on "
                       "its socket untouched)\n",
                       p->n_ready);
        zc__http_reply(r, 503, TEXT, out.data, out.failed ? 0 : out.len, NULL);
        return;
    }
    if (!going && p->n_ready > 0 && failed == 0) {
        zc__http_reply_text(r, 200, TEXT, "ready\n");
        return;
    }
    /* Serving still, with fewer: ready for a load balancer, degraded for
     * whoever reads why. */
    if (!going && p->n_ready > 0) {
        zc__buf_printf(&out, "ready, degraded: %u of %u slots failed (given "
                       "up on); %u worker%s ready\n", failed, p->n_slots,
                       p->n_ready, PLURAL(p->n_ready));
        zc__http_reply(r, 200, TEXT, out.data, out.failed ? 0 : out.len, NULL);
        return;
    }
    if (p->lame_duck)
        zc__buf_printf(&out,
                       "not ready: shutting down (serving for %llu ms "
                       "more, then draining)\n",
                       zc__shutdown_left_ms(p));
    else if (p->shutting_down)
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
/* The workers' text snapshots are in: the scrapes that waited go on. */
static void round_ended(void *ud)
{
    struct zc__endpoint *m = ud;

    zc__http_wake(m->http);
}

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
    if (p->carried && p->carried->metrics >= 0) {
        fd = p->carried->metrics; /* upgraded: kept, never closed */
        p->carried->metrics = -1;
        r = 0;
    } else {
        r = zc__addr_listen(&a, 0, &fd);
    }
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
        snprintf(p->metrics_addr, sizeof(p->metrics_addr), "%s",
                 p->opt.metrics);
    cb.ud = m;
    r = zc__http_start(&m->http, &p->loop, fd, &lim, &cb);
    if (r < 0) {
        zc_log(ZC_LOG_ERROR, NS, "cannot start the metrics endpoint: %s",
               zc_strerror(r));
        free(m);
        return r;
    }
    p->endpoint = m;
    p->metrics->round_ended = round_ended;
    p->metrics->round_ended_ud = m;
    zc_log(ZC_LOG_INFO, NS, "serving http://%s/metrics, /healthz and /readyz",
           p->metrics_addr);
    return 0;
}

int zc__endpoint_listen_fd(const struct zc_primary *p)
{
    return p->endpoint ? zc__http_listen_fd(p->endpoint->http) : -1;
}

void zc__endpoint_stop(struct zc_primary *p)
{
    struct zc__endpoint *m = p->endpoint;

    if (!m)
        return;
    zc__http_stop(m->http);
    p->metrics_addr[0] = '\0';
    if (p->metrics)
        p->metrics->round_ended = NULL;
    free(m);
    p->endpoint = NULL;
}
