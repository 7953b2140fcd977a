/* The primary's HTTP endpoint: /metrics, /healthz, /readyz. */
#ifndef ZC_HTTP_H
#define ZC_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/loop.h"
#include "base/buf.h"

struct zc__http;

struct zc__http_cb {
    /* A scrape arrived: true when it must wait for workers to report
     * (the primary then calls zc__http_scrapes_ready() when they have,
     * or when its bound has passed). */
    bool (*scrape_wait)(void *ud);
    /* The /metrics body. */
    void (*render)(void *ud, struct zc__buf *out);
    /* /readyz: true if ready, else why not in why. */
    bool (*ready)(void *ud, char *why, size_t size);
    void *ud;
};

/*
 * Serves on listen_fd (ours from here on) from loop l, through
 * libmicrohttpd in external-loop mode. A client must send its whole
 * request within timeout_ms, and an idle keep-alive connection is closed
 * after it. Returns 0 or -errno.
 */
int zc__http_start(struct zc__http **ret, struct zc__loop *l, int listen_fd,
                   uint32_t timeout_ms, const struct zc__http_cb *cb);
/* Answers the scrapes waiting for workers. */
void zc__http_scrapes_ready(struct zc__http *h);
void zc__http_stop(struct zc__http *h);

#endif
