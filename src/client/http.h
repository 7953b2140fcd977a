/*
 * A small HTTP/1.1 client for one request over a unix socket, reading the
 * answer's body line by line as it streams (client/http.c). Just what the
 * control socket's answers need: Content-Length, chunked, or up to EOF.
 */
#ifndef ZC_CLIENT_HTTP_H
#define ZC_CLIENT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define ZC__LINE_MAX (1024 * 1024)

typedef int (*zc__line_fn)(const char *line, size_t len, void *ud);

/* The answer's reader, fed bytes as they come; pure, so it is fuzzed. */
struct zc__reader {
    int state;
    int status;             /* the HTTP status, once read */
    bool chunked;
    bool has_length;
    uint64_t left;          /* of the body (length) or of the chunk */
    struct zc__buf line;    /* the body's line being gathered */
    char head[1024];        /* a status, header, chunk-size or trailer line */
    size_t head_len;
    zc__line_fn fn;
    void *ud;
};

void zc__reader_init(struct zc__reader *r, zc__line_fn fn, void *ud);
/* Feeds n bytes. Returns 0 (more wanted), 1 (the answer is complete),
 * -EPROTO, -E2BIG (a line over ZC__LINE_MAX), -ENOMEM, or fn's own. */
int zc__reader_feed(struct zc__reader *r, const char *s, size_t n);
/* The peer closed: 1 if that completes the answer, else -EPROTO. */
int zc__reader_eof(struct zc__reader *r);
void zc__reader_free(struct zc__reader *r);

#endif
