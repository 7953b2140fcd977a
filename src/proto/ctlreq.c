/*
 * Control requests, read strictly: an argument that is not understood is
 * an error, never a default, because a deploy script that misspells
 * "wait=0" must learn it before its fleet does anything.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/compat.h"
#include "base/parse.h"
#include "proto/ctlreq.h"

struct route {
    const char *path, *method;
    enum zc__ctl_verb verb;
    const char *args;       /* the arguments it takes, ",a,b," */
};

static const struct route routes[] = {
    { "/status", "GET", ZC__CTL_STATUS, ",format,color," },
    { "/metrics", "GET", ZC__CTL_METRICS, ",," },
    { "/reload", "POST", ZC__CTL_RELOAD, ",wait," },
    { "/scale", "POST", ZC__CTL_SCALE, ",to,wait," },
    { "/restart", "POST", ZC__CTL_RESTART, ",slots,wait," },
    { "/signal", "POST", ZC__CTL_SIGNAL, ",signal,slots," },
    { "/stop", "POST", ZC__CTL_STOP, ",wait," },
    { "/logs", "GET", ZC__CTL_LOGS, ",slots,lines,follow," },
    { "/config", "GET", ZC__CTL_CONFIG, ",," },
    { "/upgrade", "POST", ZC__CTL_UPGRADE, ",reload," },
    { "/upgrade", "GET", ZC__CTL_UPGRADE_STATUS, ",," },
};

struct args {
    const struct zc__ctl_arg *v;
    size_t n;
};

static const char *arg(const struct args *a, const char *name)
{
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i].key, name) == 0)
            return a->v[i].value ? a->v[i].value : "";
    return NULL;
}

static enum zc__ctl_verdict bad(char *why, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum zc__ctl_verdict bad(char *why, size_t size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, size, fmt, ap);
    va_end(ap);
    return ZC__CTL_BAD_REQUEST;
}

static enum zc__ctl_verdict flag(const char *v, bool dflt, bool *out,
                                 const char *name, char *why, size_t size)
{
    if (!v) {
        *out = dflt;
        return ZC__CTL_TAKEN;
    }
    if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
        *out = true;
    else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
        *out = false;
    else
        return bad(why, size, "%s: expected 1 or 0", name);
    return ZC__CTL_TAKEN;
}

int zc__ctl_parse_slots(struct zc__ctl_req *q, const char *s, char *why,
                        size_t size)
{
    char one[16];

    memset(q->slots, 0, sizeof(q->slots));
    q->n_slots = 0;
    if (!*s) {
        snprintf(why, size, "no slot given");
        return -EINVAL;
    }
    while (*s) {
        size_t n = strcspn(s, ",");
        unsigned long i;

        if (n == 0 || n >= sizeof(one)) {
            snprintf(why, size, "invalid slot list: expected numbers "
                     "separated by commas");
            return -EINVAL;
        }
        memcpy(one, s, n);
        one[n] = '\0';
        if (zc__parse_uint(one, 0, ZC_MAX_WORKERS - 1, &i) < 0) {
            snprintf(why, size, "invalid slot '%s': expected a number from 0 "
                     "to %d", one, ZC_MAX_WORKERS - 1);
            return -EINVAL;
        }
        if (zc__ctl_has_slot(q, (unsigned) i)) {
            snprintf(why, size, "slot %lu is named twice", i);
            return -EINVAL;
        }
        q->slots[i / 64] |= 1ull << (i % 64);
        q->n_slots++;
        s += n;
        if (*s == ',' && !*++s) {
            snprintf(why, size, "invalid slot list: it ends with a comma");
            return -EINVAL;
        }
    }
    return 0;
}

int zc__ctl_parse_scale(struct zc__ctl_req *q, const char *s, char *why,
                        size_t size)
{
    unsigned long n;

    q->scale_by = *s == '+' ? 1 : *s == '-' ? -1 : 0;
    if (zc__parse_uint(s + (q->scale_by != 0), q->scale_by ? 1 : 0,
                       ZC_MAX_WORKERS, &n) < 0 || (!q->scale_by && n == 0)) {
        snprintf(why, size, "invalid scale '%.32s': expected a number of "
                 "workers from 1 to %d, or +N or -N", s, ZC_MAX_WORKERS);
        return -EINVAL;
    }
    q->scale_n = (unsigned) n;
    return 0;
}

int zc__ctl_scale_target(const struct zc__ctl_req *q, unsigned n)
{
    long t = q->scale_by == 0 ? (long) q->scale_n
                              : (long) n + q->scale_by * (long) q->scale_n;

    return t < 1 || t > ZC_MAX_WORKERS ? -ERANGE : (int) t;
}

static enum zc__ctl_verdict verb_args(struct zc__ctl_req *q,
                                      const struct args *a, char *why,
                                      size_t size)
{
    const char *v;

    switch (q->verb) {
    case ZC__CTL_STATUS:
        v = arg(a, "format");
        if (v && strcmp(v, "json") != 0 && strcmp(v, "text") != 0)
            return bad(why, size, "format: expected json or text, not "
                       "'%.32s'", v);
        q->text = v && strcmp(v, "text") == 0;
        return flag(arg(a, "color"), false, &q->color, "color", why, size);
    case ZC__CTL_SCALE:
        v = arg(a, "to");
        if (!v)
            return bad(why, size, "%s", "scale: give the number of workers "
                       "as to=N, to=+N or to=-N");
        if (zc__ctl_parse_scale(q, v, why, size) < 0)
            return ZC__CTL_BAD_REQUEST;
        break;
    case ZC__CTL_RESTART:
        v = arg(a, "slots");
        if (!v)
            return bad(why, size, "%s", "restart: give the slots as "
                       "slots=2,3");
        if (zc__ctl_parse_slots(q, v, why, size) < 0)
            return ZC__CTL_BAD_REQUEST;
        break;
    case ZC__CTL_SIGNAL:
        v = arg(a, "signal");
        if (!v)
            return bad(why, size, "%s", "signal: give one as signal=USR1");
        q->signal = zc__signal_parse(v);
        if (q->signal < 1)
            return bad(why, size, "invalid signal '%.32s': expected a name "
                       "such as USR1 or a number", v);
        v = arg(a, "slots");
        if (v && zc__ctl_parse_slots(q, v, why, size) < 0)
            return ZC__CTL_BAD_REQUEST;
        break;
    case ZC__CTL_LOGS:
        v = arg(a, "slots");
        if (v && zc__ctl_parse_slots(q, v, why, size) < 0)
            return ZC__CTL_BAD_REQUEST;
        v = arg(a, "lines");
        q->lines = 10;
        if (v &&
            zc__parse_uint(v, 0, ZC__CTL_MAX_LINES, &(unsigned long) { 0 }) < 0)
            return bad(why, size,
                       "lines: expected a number from 0 to %d, "
                       "not '%.32s'",
                       ZC__CTL_MAX_LINES, v);
        if (v)
            q->lines = (unsigned) strtoul(v, NULL, 10);
        return flag(arg(a, "follow"), false, &q->follow, "follow", why, size);
    case ZC__CTL_UPGRADE:
        return flag(arg(a, "reload"), false, &q->reload, "reload", why, size);
    default:
        break;
    }
    return flag(arg(a, "wait"), true, &q->wait, "wait", why, size);
}

/* "/status, /metrics, ... and /upgrade": the route table's paths, each
 * once (a path may have a row per method), for the error. */
static void paths_text(char *out, size_t size)
{
    size_t n = 0, count = sizeof(routes) / sizeof(routes[0]), last = 0;

    for (size_t i = 1; i < count; i++)
        if (strcmp(routes[i].path, routes[i - 1].path) != 0)
            last = i;
    out[0] = '\0';
    for (size_t i = 0; i < count && n < size; i++)
        if (i == 0 || strcmp(routes[i].path, routes[i - 1].path) != 0)
            n += (size_t) snprintf(out + n, size - n, "%s%s",
                                   i == 0      ? ""
                                   : i == last ? " and "
                                               : ", ",
                                   routes[i].path);
}

enum zc__ctl_verdict zc__ctl_parse(struct zc__ctl_req *q, const char *method,
                                   const char *path,
                                   const struct zc__ctl_arg *args,
                                   size_t n_args, char *why, size_t size,
                                   const char **allow)
{
    char paths[128];

    const struct args a = { args, n_args };
    const struct route *rt = NULL;
    char key[24];

    memset(q, 0, sizeof(*q));
    *allow = NULL;
    /* A path may take two methods (/upgrade): its row for this one. */
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (strcmp(path, routes[i].path) == 0 &&
            (!rt || strcmp(method, routes[i].method) == 0 ||
             (strcmp(method, "HEAD") == 0 &&
              strcmp(routes[i].method, "GET") == 0)))
            rt = &routes[i];
    if (!rt) {
        paths_text(paths, sizeof(paths));
        snprintf(why, size, "no such path '%.64s': the control socket serves "
                 "%s", path, paths);
        return ZC__CTL_NOT_FOUND;
    }
    if (strcmp(method, rt->method) != 0 &&
        !(strcmp(rt->method, "GET") == 0 && strcmp(method, "HEAD") == 0)) {
        *allow = strcmp(path, "/upgrade") == 0    ? "GET, HEAD, POST"
                 : strcmp(rt->method, "GET") == 0 ? "GET, HEAD"
                                                  : "POST";
        snprintf(why, size, "%s takes %s, not %.16s", path, rt->method, method);
        return ZC__CTL_BAD_METHOD;
    }
    if (n_args > ZC__CTL_MAX_ARGS) {
        snprintf(why, size, "too many arguments: %zu", n_args);
        return ZC__CTL_BAD_REQUEST;
    }
    for (size_t i = 0; i < n_args; i++) {
        int n = snprintf(key, sizeof(key), ",%s,", args[i].key);

        if (n < 0 || (size_t) n >= sizeof(key) || strchr(args[i].key, ',') ||
            !strstr(rt->args, key)) {
            snprintf(why, size, "%s does not take '%.16s'", path, args[i].key);
            return ZC__CTL_BAD_REQUEST;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(args[i].key, args[j].key) == 0) {
                snprintf(why, size, "'%s' is given twice", args[i].key);
                return ZC__CTL_BAD_REQUEST;
            }
    }
    q->verb = rt->verb;
    return verb_args(q, &a, why, size);
}

void zc__ctl_slots_text(const uint64_t *bits, char *out, size_t size)
{
    unsigned count = 0, k = 0;
    size_t n;

    for (unsigned i = 0; i < ZC_MAX_WORKERS; i++)
        count += (bits[i / 64] >> (i % 64)) & 1;
    n = (size_t) snprintf(out, size, "slot%s", count == 1 ? "" : "s");
    for (unsigned i = 0; i < ZC_MAX_WORKERS && n < size; i++)
        if ((bits[i / 64] >> (i % 64)) & 1)
            n += (size_t) snprintf(out + n, size - n, "%s %u", k++ ? "," : "",
                                   i);
}
