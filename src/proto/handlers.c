/*
 * The handler table both ends share. The spec's onMessage() catches a
 * throwing handler and goes on with the next; the C equivalent is a
 * negative return, logged with which handler it was, and never a reason
 * to skip the rest. A handler that crashes the process cannot be isolated
 * in C, and is not pretended to be.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/handlers.h"
#include "proto/ipc.h"
#include "base/log.h"

int zc__handlers_add(struct zc__handlers *h, const char *type, zc_msg_fn fn,
                     void *userdata)
{
    if (!fn || zc__ipc_type_check(type, true) < 0)
        return -EINVAL;
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 8;
        struct zc__handler *v = realloc(h->v, cap * sizeof(*v));

        if (!v)
            return -ENOMEM;
        h->v = v;
        h->cap = cap;
    }
    snprintf(h->v[h->n].type, sizeof(h->v[h->n].type), "%s", type);
    h->v[h->n].fn = fn;
    h->v[h->n].userdata = userdata;
    h->n++;
    return 0;
}

unsigned zc__handlers_run(const struct zc__handlers *h, zc_msg *m,
                          const char *ns)
{
    unsigned ran = 0;

    for (size_t i = 0; i < h->n; i++) {
        int r;

        if (strcmp(h->v[i].type, m->type) != 0)
            continue;
        ran++;
        r = h->v[i].fn(m, h->v[i].userdata);
        if (r >= 0)
            continue;
        if (m->worker_id)
            zc_log(ZC_LOG_ERROR, ns, "handler %u for '%s' from worker %llu "
                   "(slot %d) failed: %s; running the others", ran, m->type,
                   (unsigned long long) m->worker_id, m->slot, zc_strerror(r));
        else
            zc_log(ZC_LOG_ERROR, ns, "handler %u for '%s' from the primary "
                   "failed: %s; running the others", ran, m->type,
                   zc_strerror(r));
    }
    return ran;
}

void zc__handlers_free(struct zc__handlers *h)
{
    free(h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}

int zc_msg_take_fd(zc_msg *m, size_t i)
{
    int fd;

    if (!m || i >= m->n_fds || m->fds[i] < 0)
        return -EBADF;
    fd = m->fds[i];
    m->fds[i] = -1;
    return fd;
}
