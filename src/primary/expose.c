/*
 * The primary's metrics: the endpoint (http.c), the fleet's own metrics,
 * each worker's shared registry and text snapshots (collect.c).
 *
 * Each worker gets a memfd the primary maps too, sealed against shrinking
 * (a worker that shrank it would make our reads fault). A worker that
 * reports in text instead (docs/protocol.md, "Metrics") is asked for a
 * fresh snapshot at each scrape; the scrape waits for the answers up to
 * metrics_wait_ms, then uses the last snapshot of the late ones.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "metrics/set.h"
#include "primary/fleet.h"
#include "primary/sticky.h"
#include "primary/http.h"
#include "base/log.h"

#define NS "zc:metrics"

struct zc__metrics {
    struct zc_primary *p;
    struct zc__mset *set;
    struct zc__http *http;
    struct zc__mview *own;          /* the primary's own registry */
    struct zc__timer round_timer;
    bool round;                     /* waiting for text snapshots */
    unsigned collecting;            /* workers asked and not answered */
    uint64_t reloads[3];            /* by ZC_RELOAD_* */
    uint64_t ipc_sent_gone, ipc_received_gone, ipc_dropped;
    double start_time_s;            /* unix time */
    long page_size, ticks;
};

static void round_end(struct zc__metrics *m)
{
    zc__timer_stop(&m->p->loop, &m->round_timer);
    m->round = false;
    zc__http_scrapes_ready(m->http);
}

static void on_round_timer(struct zc__loop *l, struct zc__timer *t)
{
    struct zc__metrics *m = zc__container_of(t, struct zc__metrics, round_timer);

    (void) l;
    for (struct worker *w = m->p->workers; w; w = w->next)
        if (w->collecting) {
            zc_log(ZC_LOG_DEBUG, NS, "worker %llu (slot %u) sent no metrics "
                   "within %u ms; its last snapshot is shown",
                   (unsigned long long) w->id, w->slot_index,
                   m->p->opt.metrics_wait_ms);
            w->collecting = false;
        }
    m->collecting = 0;
    round_end(m);
}

static bool scrape_wait(void *ud)
{
    struct zc__metrics *m = ud;
    struct zc_primary *p = m->p;

    if (m->round)
        return true;
    for (struct worker *w = p->workers; w; w = w->next)
        if (w->reports_text && !w->collecting &&
            zc__primary_queue(p, w, "zc.metrics.collect", NULL, 0) == 0) {
            w->collecting = true;
            m->collecting++;
        }
    if (!m->collecting)
        return false;
    m->round = zc__timer_start(&p->loop, &m->round_timer, zc__now_us() +
                               p->opt.metrics_wait_ms * 1000ull) == 0;
    return m->round;
}

static void answered(struct zc__metrics *m, struct worker *w)
{
    if (!w->collecting)
        return;
    w->collecting = false;
    if (--m->collecting == 0 && m->round)
        round_end(m);
}

/* -- the fleet's own metrics ---------------------------------------------- */

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

/* utime + stime in ticks and the resident pages, from /proc/PID/stat. */
static bool proc_stat(pid_t pid, unsigned long long *ticks, long long *rss)
{
    char path[64], buf[1024], *s;
    unsigned long long ut = 0, st = 0;
    ssize_t n;
    int fd, field = 2;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    n = read(fd, buf, sizeof(buf) - 1);
    (void) close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    /* The name (field 2) may hold spaces and parentheses: skip to its end. */
    s = strrchr(buf, ')');
    if (!s)
        return false;
    for (s++; *s && field < 24; ) {
        char *end;
        unsigned long long v;

        while (*s == ' ')
            s++;
        field++;
        v = strtoull(s, &end, 10);
        if (field == 14)
            ut = v;
        else if (field == 15)
            st = v;
        else if (field == 24)
            *rss = (long long) v;
        s = end > s ? end : s + 1;
    }
    *ticks = ut + st;
    return field == 24;
}

static void slot_metrics(struct zc__metrics *m, struct zc__buf *b)
{
    struct zc_primary *p = m->p;
    unsigned n = p->n_slots;
    double *cpu = calloc(n ? n : 1, sizeof(double));
    double *rss = calloc(n ? n : 1, sizeof(double));
    uint64_t now = zc__now_us();
    char l[48];

    if (!cpu || !rss) {
        b->failed = true;
        goto out;
    }
    for (struct worker *w = p->workers; w; w = w->next) {
        unsigned long long ticks;
        long long pages;

        if (w->pid > 0 && w->slot_index < n && proc_stat(w->pid, &ticks, &pages)) {
            cpu[w->slot_index] += (double) ticks / (double) m->ticks;
            rss[w->slot_index] += (double) pages * (double) m->page_size;
        }
    }
    family(b, "zcluster_slot_restarts_total", "counter",
           "Workers started again in the slot after one exited.");
    for (unsigned i = 0; i < n; i++) {
        snprintf(l, sizeof(l), "{slot=\"%u\"}", i);
        sample(b, "zcluster_slot_restarts_total", l, (double) p->slots[i]->restarts);
    }
    family(b, "zcluster_slot_failures", "gauge",
           "Failures in a row of the slot's workers (drives the backoff).");
    for (unsigned i = 0; i < n; i++) {
        snprintf(l, sizeof(l), "{slot=\"%u\"}", i);
        sample(b, "zcluster_slot_failures", l, p->slots[i]->crashes);
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
    for (unsigned i = 0; i < n; i++) {
        snprintf(l, sizeof(l), "{slot=\"%u\"}", i);
        sample(b, "zcluster_worker_cpu_seconds_total", l,
               cpu[i] + p->slots[i]->cpu_gone_s);
    }
    family(b, "zcluster_worker_resident_memory_bytes", "gauge",
           "Resident memory of the slot's workers (two during a reload step).");
    for (unsigned i = 0; i < n; i++) {
        snprintf(l, sizeof(l), "{slot=\"%u\"}", i);
        sample(b, "zcluster_worker_resident_memory_bytes", l, rss[i]);
    }
out:
    free(cpu);
    free(rss);
}

/* Connections waiting to be accepted, from TCP_INFO on the listening
 * socket: tcpi_unacked is the queue, tcpi_sacked its limit. */
static void listen_metrics(struct zc__metrics *m, struct zc__buf *b)
{
    struct zc_primary *p = m->p;
    struct tcp_info ti;
    socklen_t len;

    for (int pass = 0; pass < 2; pass++) {
        bool head = false;

        for (size_t i = 0; i < p->n_listeners; i++) {
            const char *name = pass ? "zcluster_listen_queue_limit"
                                    : "zcluster_listen_queue_length";

            len = sizeof(ti);
            if (getsockopt(p->listeners[i].fd, IPPROTO_TCP, TCP_INFO, &ti,
                           &len) < 0)
                continue;   /* not TCP */
            if (!head)
                family(b, name, "gauge", pass
                       ? "Length of the accept queue the listening socket was given."
                       : "Connections waiting in the listening socket's accept queue.");
            head = true;
            zc__buf_printf(b, "%s{listener=\"", name);
            zc__buf_escaped(b, p->listeners[i].text, true);
            zc__buf_printf(b, "\"} %u\n", pass ? ti.tcpi_sacked : ti.tcpi_unacked);
        }
    }
}

static void sticky_metrics(struct zc__metrics *m, struct zc__buf *b)
{
    struct zc__sticky_stats st;

    zc__sticky_stats(m->p, &st);
    family(b, "zcluster_sticky_handoffs_total", "counter",
           "Connections the primary handed to a worker (sticky sessions).");
    sample(b, "zcluster_sticky_handoffs_total", "", (double) st.handoffs);
    if (!m->p->opt.sticky)
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

static void fleet_metrics(struct zc__metrics *m, struct zc__buf *b)
{
    static const char *const states[] = { "starting", "ready", "draining" };
    static const char *const outcomes[] = { "done", "failed", "interrupted" };
    struct zc_primary *p = m->p;
    unsigned by_state[3] = { 0 };
    uint64_t sent = m->ipc_sent_gone, received = m->ipc_received_gone;
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
           "Generation of the latest reload; 1 before any.");
    sample(b, "zcluster_generation", "", (double) p->generation);
    slot_metrics(m, b);
    family(b, "zcluster_reloads_total", "counter", "Rolling reloads by outcome.");
    for (int i = 0; i < 3; i++) {
        snprintf(l, sizeof(l), "{outcome=\"%s\"}", outcomes[i]);
        sample(b, "zcluster_reloads_total", l, (double) m->reloads[i]);
    }
    family(b, "zcluster_ipc_messages_total", "counter",
           "Typed messages between the primary and its workers.");
    sample(b, "zcluster_ipc_messages_total", "{direction=\"received\"}",
           (double) received);
    sample(b, "zcluster_ipc_messages_total", "{direction=\"sent\"}", (double) sent);
    family(b, "zcluster_ipc_dropped_total", "counter",
           "Messages not delivered: a worker's queue was full, or its frame "
           "was refused.");
    sample(b, "zcluster_ipc_dropped_total", "", (double) m->ipc_dropped);
    sticky_metrics(m, b);
    listen_metrics(m, b);
    family(b, "zcluster_primary_start_time_seconds", "gauge",
           "When the primary started, in seconds since the epoch.");
    sample(b, "zcluster_primary_start_time_seconds", "", m->start_time_s);
    if (proc_stat(getpid(), &ticks, &pages)) {
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

static void render(void *ud, struct zc__buf *out)
{
    struct zc__metrics *m = ud;
    const void *base;
    size_t size;

    fleet_metrics(m, out);
    /* A library-mode primary's own registry is shown with the workers'. */
    if (!m->own && zc__metrics_own_region(&base, &size))
        m->own = zc__mview_new(m->set, 0, -1, base, size);
    zc__mset_expose(m->set, out);
}

static bool ready(void *ud, char *why, size_t size)
{
    struct zc__metrics *m = ud;
    struct zc_primary *p = m->p;

    if (p->shutting_down)
        snprintf(why, size, "shutting down");
    else if (p->n_ready == 0)
        snprintf(why, size, "no worker is ready yet (%u running)", p->n_alive);
    return !p->shutting_down && p->n_ready > 0;
}

/* -- the primary's calls -------------------------------------------------- */

int zc__expose_start(struct zc_primary *p)
{
    static const struct zc__http_cb cb_ops = { scrape_wait, render, ready, NULL };
    struct zc__http_cb cb = cb_ops;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char text[ZC__ADDR_TEXT_MAX];
    struct zc__metrics *m;
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
    if (!m || !(m->set = zc__mset_new())) {
        free(m);
        (void) close(fd);
        return -ENOMEM;
    }
    m->p = p;
    m->page_size = sysconf(_SC_PAGESIZE);
    m->ticks = sysconf(_SC_CLK_TCK);
    clock_gettime(CLOCK_REALTIME, &ts);
    m->start_time_s = (double) ts.tv_sec + ts.tv_nsec / 1e9;
    zc__timer_init(&m->round_timer, on_round_timer);
    if (getsockname(fd, (struct sockaddr *) &ss, &len) == 0)
        zc__addr_format((struct sockaddr *) &ss, len, text, sizeof(text));
    else
        snprintf(text, sizeof(text), "%s", p->opt.metrics);
    cb.ud = m;
    r = zc__http_start(&m->http, &p->loop, fd, p->opt.metrics_timeout_ms, &cb);
    if (r < 0) {
        zc_log(ZC_LOG_ERROR, NS, "cannot start the metrics endpoint: %s",
               zc_strerror(r));
        zc__mset_free(m->set);
        free(m);
        return r;
    }
    p->metrics = m;
    zc_log(ZC_LOG_INFO, NS, "serving http://%s/metrics, /healthz and /readyz",
           text);
    return 0;
}

void zc__expose_stop(struct zc_primary *p)
{
    struct zc__metrics *m = p->metrics;

    if (!m)
        return;
    zc__timer_stop(&p->loop, &m->round_timer);
    zc__http_stop(m->http);
    for (struct worker *w = p->workers; w; w = w->next) {
        zc__mview_free(w->mview);
        w->mview = NULL;
        if (w->metrics_map)
            (void) munmap(w->metrics_map, p->opt.metrics_memory);
        w->metrics_map = NULL;
    }
    zc__mset_free(m->set);
    free(m);
    p->metrics = NULL;
}

int zc__expose_spawning(struct zc_primary *p, struct worker *w, int *ret_fd)
{
    size_t size = p->opt.metrics_memory;
    void *map;
    int fd, r;

    *ret_fd = -1;
    if (!p->metrics)
        return 0;
    fd = memfd_create("zcluster-metrics", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        goto fail;
    if (ftruncate(fd, (off_t) size) < 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
        goto fail;
    map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        goto fail;
    zc__metrics_format(map, size);
    w->mview = zc__mview_new(p->metrics->set, w->id, (int) w->slot_index, map, size);
    if (!w->mview) {
        (void) munmap(map, size);
        errno = ENOMEM;
        goto fail;
    }
    w->metrics_map = map;
    *ret_fd = fd;
    return 0;
fail:
    r = -errno;
    if (fd >= 0)
        (void) close(fd);
    zc_log(ZC_LOG_WARN, NS, "worker %llu (slot %u): no shared metrics "
           "registry (%s); it starts without one", (unsigned long long) w->id,
           w->slot_index, zc_strerror(r));
    return r;
}

void zc__expose_spawned(struct zc_primary *p, struct worker *w, int fd)
{
    (void) p;
    (void) w;
    if (fd >= 0)
        (void) close(fd);
}

void zc__expose_text(struct zc_primary *p, struct worker *w, const void *data,
                     size_t len)
{
    struct zc__metrics *m = p->metrics;
    const char *why;
    unsigned line;
    int n;

    if (!m) {
        zc_log(ZC_LOG_DEBUG, NS, "worker %llu sent metrics, but there is no "
               "endpoint (--metrics)", (unsigned long long) w->id);
        return;
    }
    if (!w->mview &&
        !(w->mview = zc__mview_new(m->set, w->id, (int) w->slot_index, NULL, 0)))
        return;
    n = zc__mview_text(w->mview, data, len, &why, &line);
    if (why)
        zc_log(w->reports_text ? ZC_LOG_DEBUG : ZC_LOG_WARN, NS,
               "worker %llu (slot %u): metrics snapshot, line %u: %s; the "
               "line is skipped", (unsigned long long) w->id, w->slot_index,
               line, why);
    if (!w->reports_text)
        zc_log(ZC_LOG_DEBUG, NS, "worker %llu (slot %u) reports metrics as "
               "text (%d samples); it is asked at each scrape",
               (unsigned long long) w->id, w->slot_index, n);
    w->reports_text = true;
    answered(m, w);
}

void zc__expose_exited(struct zc_primary *p, struct worker *w,
                       const struct rusage *ru)
{
    struct zc__metrics *m = p->metrics;

    if (w->slot_index < p->n_slots && ru)
        p->slots[w->slot_index]->cpu_gone_s +=
            (double) ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6 +
            (double) ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6;
    if (!m)
        return;
    m->ipc_sent_gone += w->ipc.sent;
    m->ipc_received_gone += w->ipc.received;
    answered(m, w);
    if (w->mview) {
        zc__mview_fold(w->mview);
        zc__mview_free(w->mview);
        w->mview = NULL;
    }
    if (w->metrics_map)
        (void) munmap(w->metrics_map, p->opt.metrics_memory);
    w->metrics_map = NULL;
}

void zc__expose_reload(struct zc_primary *p, int outcome)
{
    if (p->metrics && outcome >= 0 && outcome < 3)
        p->metrics->reloads[outcome]++;
}

void zc__expose_dropped(struct zc_primary *p)
{
    if (p->metrics)
        p->metrics->ipc_dropped++;
}
