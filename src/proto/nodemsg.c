/*
 * Node's channel, our side: lines in, the few cluster messages a primary
 * must understand, and the replies it sends. Everything a worker writes
 * is checked: a field of the wrong type is an error, never a guess.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/json.h"
#include "proto/nodemsg.h"

int zc__node_lines_feed(struct zc__node_lines *l, const char *s, size_t n,
                        int (*fn)(const char *line, size_t len, void *ud),
                        void *ud)
{
    struct zc__buf *b = &l->b;
    size_t start = 0;

    if (n == 0)
        return 0;
    if (n > ZC__NODE_LINE_MAX + 1 - b->len && !memchr(s, '\n', n))
        return -E2BIG;
    zc__buf_add(b, s, n);
    if (b->failed)
        return -ENOMEM;
    for (size_t i = 0; i < b->len; i++) {
        int r;

        if (b->data[i] != '\n')
            continue;
        if (i - start > ZC__NODE_LINE_MAX)
            return -E2BIG;
        r = fn(b->data + start, i - start, ud);
        if (r < 0)
            return r;
        start = i + 1;
    }
    memmove(b->data, b->data + start, b->len - start + 1);  /* and its NUL */
    b->len -= start;
    return b->len > ZC__NODE_LINE_MAX ? -E2BIG : 0;
}

void zc__node_lines_free(struct zc__node_lines *l)
{
    free(l->b.data);
    *l = (struct zc__node_lines) { 0 };
}

/* A whole number field: 1 read, 0 absent, -EINVAL not a number. */
static int number(const char *line, size_t len, const char *key,
                  long long *out)
{
    char text[32], *end;
    const char *v;
    size_t vlen;
    int n = zc__json_find(line, len, key, &v, &vlen);

    if (n == -ENOENT)
        return 0;
    if (n < 0 || !(*v == '-' || (*v >= '0' && *v <= '9')))
        return -EINVAL;
    n = zc__json_field(line, len, key, text, sizeof(text));
    if (n <= 0 || (size_t) n >= sizeof(text))
        return -EINVAL;
    *out = strtoll(text, &end, 10);
    return *end ? -EINVAL : 1;
}

static int string(const char *line, size_t len, const char *key, char *out,
                  size_t size)
{
    const char *v;
    size_t vlen;
    int n;

    if (zc__json_find(line, len, key, &v, &vlen) < 0 || *v != '"')
        return -EINVAL;
    n = zc__json_field(line, len, key, out, size);
    return n < 0 || (size_t) n >= size ? -EINVAL : 0;
}

static int fail(char *why, size_t size, const char *what)
{
    snprintf(why, size, "%s", what);
    return -EINVAL;
}

/* queryServer and listening: where the worker wants to listen. */
static int server(const char *line, size_t len, struct zc__node_msg *m,
                  char *why, size_t size)
{
    const char *v;
    size_t vlen;
    long long t = 0, fd = 0;
    char type[8];

    if (zc__json_find(line, len, "address", &v, &vlen) < 0 ||
        (vlen == 4 && memcmp(v, "null", 4) == 0))
        m->address_null = true;
    else if (string(line, len, "address", m->address, sizeof(m->address)) < 0)
        return fail(why, size, "address: not a string or null (or too long)");
    if (number(line, len, "port", &m->port) != 1)
        return fail(why, size, "port: not a number");
    if (zc__json_field(line, len, "addressType", type, sizeof(type)) > 0 &&
        (strcmp(type, "udp4") == 0 || strcmp(type, "udp6") == 0))
        m->udp = true;
    else if (number(line, len, "addressType", &t) != 1 ||
             (t != ZC__NODE_IPV4 && t != ZC__NODE_IPV6 && t != ZC__NODE_UNIX))
        return fail(why, size, "addressType: expected 4, 6 or -1");
    m->address_type = (int) t;
    m->has_fd = zc__json_find(line, len, "fd", &v, &vlen) == 0 &&
                !(vlen == 4 && memcmp(v, "null", 4) == 0);
    if (m->has_fd && number(line, len, "fd", &fd) < 0)
        return fail(why, size, "fd: not a number or null");
    if (number(line, len, "index", &m->index) < 0)
        return fail(why, size, "index: not a number");
    if (m->port < -1 || m->port > 65535)
        return fail(why, size, "port: out of range");
    return 0;
}

int zc__node_parse(const char *line, size_t len, struct zc__node_msg *m,
                   char *why, size_t size)
{
    char cmd[32];
    const char *v;
    size_t vlen;
    int n;

    *m = (struct zc__node_msg) { .kind = ZC__NODE_USER };
    if (!zc__json_valid(line, len))
        return fail(why, size, "not JSON");
    if (zc__json_find(line, len, "cmd", &v, &vlen) < 0)
        return 0;           /* a user message may be any JSON value */
    n = zc__json_field(line, len, "cmd", cmd, sizeof(cmd));
    if (n < 0 || strncmp(cmd, "NODE_", 5) != 0 || n <= 5 || *v != '"')
        return 0;
    if (strcmp(cmd, "NODE_HANDLE_ACK") == 0) {
        m->kind = ZC__NODE_HANDLE_ACK;
        return 0;
    }
    if (strcmp(cmd, "NODE_HANDLE_NACK") == 0) {
        m->kind = ZC__NODE_HANDLE_NACK;
        return 0;
    }
    if (strcmp(cmd, "NODE_CLUSTER") != 0) {
        m->kind = ZC__NODE_OTHER;
        return 0;
    }
    m->kind = ZC__NODE_CLUSTER;
    n = number(line, len, "seq", &m->seq);
    if (n < 0)
        return fail(why, size, "seq: not a number");
    m->has_seq = n == 1;
    if (zc__json_find(line, len, "act", &v, &vlen) == -ENOENT)
        return 0;           /* an ack of ours: nothing to do */
    if (string(line, len, "act", m->act, sizeof(m->act)) < 0)
        return fail(why, size, "act: not a short string");
    if (strcmp(m->act, "queryServer") == 0 || strcmp(m->act, "listening") == 0)
        return server(line, len, m, why, size);
    if (strcmp(m->act, "close") == 0 &&
        string(line, len, "key", m->key, sizeof(m->key)) < 0)
        return fail(why, size, "key: not a short string");
    return 0;
}

static size_t fits(int n, size_t size)
{
    return n < 0 || (size_t) n >= size ? 0 : (size_t) n;
}

size_t zc__node_query_reply(char *out, size_t size, long long ack,
                            const char *key, int err, bool handle,
                            long long seq)
{
    /* The handle's line wraps the reply, as Node's own primary sends it:
     * the worker takes the fd that comes with this line. */
    if (handle)
        return fits(snprintf(out, size, "{\"cmd\":\"NODE_HANDLE\",\"type\":"
                             "\"net.Native\",\"msg\":{\"cmd\":\"NODE_CLUSTER\","
                             "\"errno\":%d,\"key\":\"%s\",\"ack\":%lld,"
                             "\"data\":null,\"seq\":%lld}}\n", err, key, ack,
                             seq), size);
    return fits(snprintf(out, size, "{\"cmd\":\"NODE_CLUSTER\",\"errno\":%d,"
                         "\"key\":\"%s\",\"ack\":%lld,\"data\":null,"
                         "\"seq\":%lld}\n", err, key, ack, seq), size);
}

size_t zc__node_cluster_act(char *out, size_t size, const char *act,
                            long long seq)
{
    return fits(snprintf(out, size, "{\"cmd\":\"NODE_CLUSTER\",\"act\":\"%s\","
                         "\"seq\":%lld}\n", act, seq), size);
}

size_t zc__node_cluster_ack(char *out, size_t size, long long ack,
                            long long seq)
{
    return fits(snprintf(out, size, "{\"cmd\":\"NODE_CLUSTER\",\"ack\":%lld,"
                         "\"seq\":%lld}\n", ack, seq), size);
}
