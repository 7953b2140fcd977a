/*
 * Collecting the workers' metrics: each worker gets a memfd the primary
 * maps too, sealed against shrinking (a worker that shrank it would make
 * our reads fault), and the set (metrics/set.h) sums every registry. A
 * worker that reports in text instead (docs/protocol.md, "Metrics") is
 * asked for a fresh snapshot at each scrape; the scrape waits for the
 * answers up to metrics_wait_ms, then uses the last snapshot of the late
 * ones. What a worker counted stays in the sum after it exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "metrics/set.h"
#include "primary/core/collect.h"
#include "primary/core/link.h"
#include "proto/types.h"

#define NS "zc:metrics"

static void round_end(struct zc__metrics *m)
{
    zc__timer_stop(&m->p->loop, &m->round_timer);
    m->round = false;
    if (m->round_ended)
        m->round_ended(m->round_ended_ud);
}

static void on_round_timer(struct zc__loop *l, struct zc__timer *t)
{
    struct zc__metrics *m =
        zc__container_of(t, struct zc__metrics, round_timer);

    (void) l;
    for (struct worker *w = m->p->workers; w; w = w->next)
        if (w->metrics.collecting) {
            zc_log(ZC_LOG_DEBUG, NS, "worker %llu (slot %u) sent no metrics "
                   "within %u ms; its last snapshot is shown",
                   (unsigned long long) w->id, w->slot_index,
                   m->p->opt.metrics_wait_ms);
            w->metrics.collecting = false;
        }
    m->collecting = 0;
    round_end(m);
}

bool zc__collect_scrape_wait(struct zc_primary *p)
{
    struct zc__metrics *m = p->metrics;

    if (m->round)
        return true;
    for (struct worker *w = p->workers; w; w = w->next) {
        if (!w->metrics.reports_text || w->metrics.collecting)
            continue;
        if (zc__link_queue(p, w, ZC__MSG_METRICS_COLLECT, NULL, 0, NULL, 0))
            continue; /* not asked: its last snapshot is shown */
        w->metrics.collecting = true;
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
    if (!w->metrics.collecting)
        return;
    w->metrics.collecting = false;
    if (--m->collecting == 0 && m->round)
        round_end(m);
}

/* The set the workers' registries are summed in; the endpoint serves it
 * (endpoint.c). Returns 0 or -ENOMEM. */
int zc__collect_start(struct zc_primary *p)
{
    struct zc__metrics *m = calloc(1, sizeof(*m));

    if (!m || !(m->set = zc__mset_new())) {
        free(m);
        return -ENOMEM;
    }
    m->p = p;
    zc__timer_init(&m->round_timer, on_round_timer);
    p->metrics = m;
    return 0;
}

void zc__collect_stop(struct zc_primary *p)
{
    struct zc__metrics *m = p->metrics;

    if (!m)
        return;
    zc__timer_stop(&p->loop, &m->round_timer);
    for (struct worker *w = p->workers; w; w = w->next) {
        zc__mview_free(w->metrics.view);
        w->metrics.view = NULL;
        if (w->metrics.map)
            (void) munmap(w->metrics.map, p->opt.metrics_memory);
        w->metrics.map = NULL;
        if (w->metrics.memfd > 0)
            (void) close(w->metrics.memfd);
        w->metrics.memfd = 0;
    }
    zc__mset_free(m->set);
    free(m);
    p->metrics = NULL;
}

/* Every worker's metrics, summed, with the primary's own registry (a
 * library-mode primary's) among them. */
void zc__collect_render(struct zc_primary *p, struct zc__buf *out)
{
    struct zc__metrics *m = p->metrics;
    const void *base;
    size_t size;

    if (!m->own && zc__metrics_own_region(&base, &size))
        m->own = zc__mview_new(m->set, 0, -1, base, size);
    zc__mset_expose(m->set, out);
}

int zc__collect_spawning(struct zc_primary *p, struct worker *w, int *ret_fd)
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
    w->metrics.view =
        zc__mview_new(p->metrics->set, w->id, (int) w->slot_index, map, size);
    if (!w->metrics.view) {
        (void) munmap(map, size);
        errno = ENOMEM;
        goto fail;
    }
    w->metrics.map = map;
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

void zc__collect_spawned(struct zc_primary *p, struct worker *w, int fd)
{
    (void) p;
    if (fd >= 0 && w->metrics.map)
        w->metrics.memfd = fd;
    else if (fd >= 0)
        (void) close(fd);
}

int zc__collect_adopt(struct zc_primary *p, struct worker *w, int fd)
{
    size_t size = p->opt.metrics_memory;
    struct stat st;
    void *map;

    if (!p->metrics) {
        (void) close(fd);
        return 0;
    }
    /* The size is the running options' (they travel too); a region of
     * another size is not read at all rather than read past its end. */
    if (fstat(fd, &st) < 0 || (size_t) st.st_size != size) {
        (void) close(fd);
        return -EINVAL;
    }
    map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        (void) close(fd);
        return -errno;
    }
    w->metrics.view =
        zc__mview_new(p->metrics->set, w->id, (int) w->slot_index, map, size);
    if (!w->metrics.view) {
        (void) munmap(map, size);
        (void) close(fd);
        return -ENOMEM;
    }
    w->metrics.map = map;
    w->metrics.memfd = fd;
    return 0;
}

void zc__collect_text(struct zc_primary *p, struct worker *w, const void *data,
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
    if (!w->metrics.view &&
        !(w->metrics.view =
              zc__mview_new(m->set, w->id, (int) w->slot_index, NULL, 0)))
        return;
    n = zc__mview_text(w->metrics.view, data, len, &why, &line);
    if (why)
        zc_log(w->metrics.reports_text ? ZC_LOG_DEBUG : ZC_LOG_WARN, NS,
               "worker %llu (slot %u): metrics snapshot, line %u: %s; the "
               "line is skipped", (unsigned long long) w->id, w->slot_index,
               line, why);
    if (!w->metrics.reports_text)
        zc_log(ZC_LOG_DEBUG, NS, "worker %llu (slot %u) reports metrics as "
               "text (%d sample%s); it is asked at each scrape",
               (unsigned long long) w->id, w->slot_index, n, PLURAL(n));
    w->metrics.reports_text = true;
    answered(m, w);
}

void zc__collect_exited(struct zc_primary *p, struct worker *w,
                        const struct rusage *ru)
{
    struct zc__metrics *m = p->metrics;

    if (w->slot_index < p->n_kept && ru)
        p->slots[w->slot_index]->metrics.cpu_gone_s +=
            (double) ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6 +
            (double) ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6;
    if (!m)
        return;
    m->ipc_sent_gone += w->ipc.sent;
    m->ipc_received_gone += w->ipc.received;
    answered(m, w);
    if (w->metrics.view) {
        zc__mview_fold(w->metrics.view);
        zc__mview_free(w->metrics.view);
        w->metrics.view = NULL;
    }
    if (w->metrics.map)
        (void) munmap(w->metrics.map, p->opt.metrics_memory);
    w->metrics.map = NULL;
    if (w->metrics.memfd > 0)
        (void) close(w->metrics.memfd);
    w->metrics.memfd = 0;
}

void zc__collect_snapshot(const struct zc_primary *p,
                          struct collect_snapshot *out)
{
    const struct zc__metrics *m = p->metrics;

    *out = (struct collect_snapshot) { .on = m != NULL };
    if (!m)
        return;
    out->ipc_sent_gone = m->ipc_sent_gone;
    out->ipc_received_gone = m->ipc_received_gone;
    out->series = zc__mset_series(m->set);
    out->refused = zc__mset_refused(m->set);
}

double zc__collect_cpu_gone(const struct slot *s)
{
    return s->metrics.cpu_gone_s;
}
