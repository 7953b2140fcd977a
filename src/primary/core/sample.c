/*
 * A worker's CPU time and resident memory, as status, /metrics and
 * --max-memory read them. Reading /proc costs the kernel ~8 us a worker;
 * a thousand workers read at every call would be most of a status call's
 * time, so a sample this young is used again.
 */
#include "base/compat.h"
#include "primary/core/sample.h"

#define SAMPLE_US 1000000

bool zc__sample_worker(struct worker *w, int proc, uint64_t now,
                       uint64_t *cpu_ns, long long *pages)
{
    struct proc_sample *s = &w->sample;

    if (w->pid <= 0)
        return false;
    if (!s->at_us || now - s->at_us >= SAMPLE_US) {
        s->ok = zc__proc_usage(proc, w->pid, &s->cpu_ns, &s->pages);
        s->at_us = now;
    }
    *cpu_ns = s->cpu_ns;
    *pages = s->pages;
    return s->ok;
}
