/*
 * A worker's line as the primary writes it. A log collector must be able
 * to tell who said it (fleet, slot, worker, pid, generation, stream) and
 * must always get valid JSON, whatever the worker wrote. A worker that
 * logs JSON itself (pino, bunyan, zap) keeps its fields as fields, not as
 * a string inside ours (PM2 wraps them, pm2#5244); ours are named zc_*,
 * and a line that already has one of those names is wrapped instead, so
 * that no key is ever given twice.
 */
#include <errno.h>
#include <string.h>

#include "base/clean.h"
#include "proto/json.h"
#include "proto/record.h"

static const char *const own_names[] = {
    "zc_time", "zc_fleet",  "zc_slot", "zc_worker", "zc_pid",
    "zc_gen",  "zc_stream", "zc_part", "zc_last",
};

static void part_text(struct zc__buf *b, const struct zc__record *r)
{
    if (r->part)
        zc__buf_printf(b, " (part %u%s)", r->part, r->last ? ", last" : "");
}

void zc__record_prefix(struct zc__buf *b, const struct zc__record *r,
                       const char *s, size_t n)
{
    zc__buf_printf(b, "%s %s[%u] worker %llu pid %d gen %llu %s", r->when,
                   r->fleet, r->slot, (unsigned long long) r->worker,
                   (int) r->pid, (unsigned long long) r->gen,
                   r->err ? "err" : "out");
    part_text(b, r);
    ZC__BUF_LIT(b, ": ");
    zc__buf_add(b, s, n);
    ZC__BUF_LIT(b, "\n");
}

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

bool zc__record_mergeable(const char *s, size_t n)
{
    const char *v;
    size_t vlen;

    while (n && blank(s[n - 1]))
        n--;
    while (n && blank(s[0])) {
        s++;
        n--;
    }
    if (n < 2 || s[0] != '{' || s[n - 1] != '}' || !zc__printable_utf8(s, n) ||
        !zc__json_valid(s, n))
        return false;
    for (size_t i = 0; i < sizeof(own_names) / sizeof(own_names[0]); i++)
        if (zc__json_find(s, n, own_names[i], &v, &vlen) != -ENOENT)
            return false;
    return true;
}

void zc__record_json(struct zc__buf *b, const struct zc__record *r,
                     const char *s, size_t n)
{
    ZC__BUF_LIT(b, "{\"zc_time\":\"");
    zc__buf_json_bytes(b, r->when, strlen(r->when));
    ZC__BUF_LIT(b, "\",\"zc_fleet\":\"");
    zc__buf_json_bytes(b, r->fleet, strlen(r->fleet));
    zc__buf_printf(b,
                   "\",\"zc_slot\":%u,\"zc_worker\":%llu,\"zc_pid\":%d,"
                   "\"zc_gen\":%llu,\"zc_stream\":\"%s\"",
                   r->slot, (unsigned long long) r->worker, (int) r->pid,
                   (unsigned long long) r->gen, r->err ? "err" : "out");
    if (r->part)
        zc__buf_printf(b, ",\"zc_part\":%u,\"zc_last\":%s", r->part,
                       r->last ? "true" : "false");
    if (r->part == 0 && zc__record_mergeable(s, n)) {
        const char *in = memchr(s, '{', n) + 1;
        size_t rest = n - (size_t) (in - s);

        while (rest && blank(*in)) {
            in++;
            rest--;
        }
        if (*in != '}')
            ZC__BUF_LIT(b, ",");
        while (rest && blank(in[rest - 1]))
            rest--;
        zc__buf_add(b, in, rest);
        ZC__BUF_LIT(b, "\n");
        return;
    }
    ZC__BUF_LIT(b, ",\"msg\":\"");
    zc__buf_json_bytes(b, s, n);
    ZC__BUF_LIT(b, "\"}\n");
}
