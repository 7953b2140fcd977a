/*
 * The answer's reader: a state machine fed whatever recv() returned, so a
 * status line, a header or a chunk size split over two reads parses the
 * same as in one. Headers are kept one line at a time and never as a
 * whole; the body is cut into lines for the caller.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/http.h"

enum { S_STATUS, S_HEADER, S_BODY, S_CHUNK_SIZE, S_CHUNK, S_CHUNK_END,
       S_TRAILER, S_DONE };


void zc__reader_init(struct zc__reader *r, zc__line_fn fn, void *ud)
{
    *r = (struct zc__reader) { .state = S_STATUS, .fn = fn, .ud = ud };
}

void zc__reader_free(struct zc__reader *r)
{
    free(r->line.data);
    r->line = (struct zc__buf) { 0 };
}

/* A whole number in hex (a chunk size, extensions after ';' ignored). */
static int chunk_size(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    int digits = 0;

    for (; *s && *s != ';' && *s != ' ' && *s != '\t'; s++, digits++) {
        int d = *s >= '0' && *s <= '9' ? *s - '0'
              : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
              : *s >= 'A' && *s <= 'F' ? *s - 'A' + 10 : -1;

        if (d < 0 || digits >= 15)
            return -EPROTO;
        v = v * 16 + (uint64_t) d;
    }
    if (!digits)
        return -EPROTO;
    *out = v;
    return 0;
}

static int header(struct zc__reader *r, const char *h)
{
    const char *v = strchr(h, ':');
    char *end;

    if (!v)
        return -EPROTO;
    for (v++; *v == ' ' || *v == '\t'; v++)
        ;
    if (strncasecmp(h, "Content-Length:", 15) == 0) {
        errno = 0;
        r->left = strtoull(v, &end, 10);
        if (errno || end == v || (*end && *end != ' ' && *end != '\t') ||
            *v == '-')
            return -EPROTO;
        r->has_length = true;
    } else if (strncasecmp(h, "Transfer-Encoding:", 18) == 0) {
        r->chunked = strncasecmp(v, "chunked", 7) == 0;
        if (!r->chunked)
            return -EPROTO;
    }
    return 0;
}

/* A head line is complete (without its CRLF): what it means. */
static int head_line(struct zc__reader *r)
{
    char *s = r->head;
    int rc = 0;

    if (r->state == S_STATUS) {
        if (strncmp(s, "HTTP/1.", 7) != 0 || !s[7] || s[8] != ' ' ||
            s[9] < '1' || s[9] > '5' || s[10] < '0' || s[10] > '9' ||
            s[11] < '0' || s[11] > '9' || (s[12] && s[12] != ' '))
            return -EPROTO;
        r->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
        r->state = S_HEADER;
    } else if (r->state == S_HEADER) {
        if (*s)
            rc = header(r, s);
        else if (r->chunked)
            r->state = S_CHUNK_SIZE;
        else
            r->state = r->has_length && r->left == 0 ? S_DONE : S_BODY;
    } else if (r->state == S_CHUNK_SIZE) {
        rc = chunk_size(s, &r->left);
        if (rc == 0)
            r->state = r->left ? S_CHUNK : S_TRAILER;
    } else if (r->state == S_CHUNK_END) {
        if (*s)
            return -EPROTO;
        r->state = S_CHUNK_SIZE;
    } else if (r->state == S_TRAILER && !*s) {
        r->state = S_DONE;
    }
    r->head_len = 0;
    return rc;
}

/* Body bytes: cut into lines for the caller. */
static int body(struct zc__reader *r, const char *s, size_t n)
{
    while (n) {
        const char *nl = memchr(s, '\n', n);
        size_t k = nl ? (size_t) (nl - s) : n;
        int rc;

        if (r->line.len + k > ZC__LINE_MAX)
            return -E2BIG;
        zc__buf_add(&r->line, s, k);
        if (r->line.failed)
            return -ENOMEM;
        if (!nl)
            return 0;
        rc = r->fn(r->line.data ? r->line.data : "", r->line.len, r->ud);
        r->line.len = 0;
        if (rc < 0)
            return rc;
        s += k + 1;
        n -= k + 1;
    }
    return 0;
}

/* The last line of a body with no newline at its end. */
static int flush(struct zc__reader *r)
{
    int rc = r->line.len ? r->fn(r->line.data, r->line.len, r->ud) : 0;

    r->line.len = 0;
    return rc;
}

int zc__reader_feed(struct zc__reader *r, const char *s, size_t n)
{
    while (n && r->state != S_DONE) {
        int rc;

        if (r->state == S_BODY || r->state == S_CHUNK) {
            size_t k = n;

            if ((r->has_length || r->state == S_CHUNK) && k > r->left)
                k = (size_t) r->left;
            rc = body(r, s, k);
            if (rc < 0)
                return rc;
            s += k;
            n -= k;
            if (r->has_length || r->state == S_CHUNK)
                r->left -= k;
            if (r->state == S_CHUNK && r->left == 0)
                r->state = S_CHUNK_END;
            else if (r->state == S_BODY && r->has_length && r->left == 0)
                r->state = S_DONE;
            continue;
        }
        /* A head, chunk-size or trailer line, up to LF (CR dropped). */
        {
            const char *nl = memchr(s, '\n', n);
            size_t k = nl ? (size_t) (nl - s) : n;

            if (r->head_len + k >= sizeof(r->head))
                return -EPROTO;
            memcpy(r->head + r->head_len, s, k);
            r->head_len += k;
            r->head[r->head_len] = '\0';
            s += k;
            n -= k;
            if (!nl)
                break;
            s++;
            n--;
            if (r->head_len && r->head[r->head_len - 1] == '\r')
                r->head[--r->head_len] = '\0';
            rc = head_line(r);
            if (rc < 0)
                return rc;
        }
    }
    if (r->state == S_DONE) {
        int rc = flush(r);

        return rc < 0 ? rc : 1;
    }
    return 0;
}

int zc__reader_eof(struct zc__reader *r)
{
    int rc;

    if (r->state == S_DONE)
        return 1;
    if (r->state != S_BODY || r->has_length)
        return -EPROTO;
    rc = flush(r);
    return rc < 0 ? rc : 1;
}
