/* What collecting the workers' metrics keeps on each slot and worker
 * (collect.c owns these fields; the core only embeds them). */
#ifndef ZC_COLLECT_T_H
#define ZC_COLLECT_T_H

#include <stdbool.h>

struct zc__mview;

struct collect_slot {
    double cpu_gone_s;          /* CPU time of its workers that have exited */
};

struct collect_worker {
    void *map;                  /* its registry, shared with it; NULL */
    struct zc__mview *view;     /* our view of it and of its snapshots */
    bool reports_text;          /* sent a snapshot: asked at each scrape */
    bool collecting;            /* asked for one, not answered yet */
    /* the registry's memfd, kept so that an upgrade can hand it to the
     * next image; 0: none (0-2 are always stdio in the primary) */
    int memfd;
};

#endif
