/* Message handlers by type, in registration order, each isolated. */
#ifndef ZC_HANDLERS_H
#define ZC_HANDLERS_H

#include <stddef.h>

#include "zcluster.h"

struct zc__handler {
    char type[ZC_IPC_TYPE_MAX + 1];
    zc_msg_fn fn;
    void *userdata;
};

struct zc__handlers {
    struct zc__handler *v;
    size_t n, cap;
};

/* Appends a handler; type is copied. Returns 0, -EINVAL, -ENOMEM. */
int zc__handlers_add(struct zc__handlers *h, const char *type, zc_msg_fn fn,
                     void *userdata);
/* Runs every handler for m->type; a failure is logged under ns with the
 * sender (m->worker_id, or the primary when 0). Returns how many ran. */
unsigned zc__handlers_run(const struct zc__handlers *h, zc_msg *m,
                          const char *ns);
void zc__handlers_free(struct zc__handlers *h);

#endif
