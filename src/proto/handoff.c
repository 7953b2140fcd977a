/*
 * Sticky hand-offs on the wire, both ends: the client address as Node
 * prints it, the spec's hash over it, and the record that comes with each
 * handed-off fd in a "zc.conn" frame: "LISTENER CLIENT PORT SERVER PORT\n"
 * (docs/protocol.md, "Sticky sessions"). Pure, but for the interface name
 * of a scoped address; the parser is fuzzed (tests/fuzz/fuzz-handoff.c).
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "proto/handoff.h"

unsigned zc_default_ip_hash(const char *addr, unsigned count)
{
    /* The spec's arithmetic is JavaScript's: (h << 5) + h + c on doubles,
     * then & 0x7fffffff, which is h * 33 + c modulo 2^31. */
    uint32_t h = 5381;

    if (count == 0 || !addr)
        return 0;
    for (const unsigned char *s = (const unsigned char *) addr; *s; s++)
        h = (h * 33u + *s) & 0x7fffffffu;
    return h % count;
}

static char *put_uint(char *p, unsigned v)
{
    char tmp[12];
    size_t n = 0;

    do
        tmp[n++] = (char) ('0' + v % 10);
    while ((v /= 10));
    while (n)
        *p++ = tmp[--n];
    return p;
}

size_t zc__handoff_addr_text(const struct sockaddr *sa, char *buf,
                             unsigned *port)
{
    *port = 0;
    buf[0] = '\0';
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in =
            (const struct sockaddr_in *) (const void *) sa;
        const uint8_t *b = (const uint8_t *) &in->sin_addr;
        char *p = buf;

        /* By hand: glibc's inet_ntop formats with sprintf, a tenth of
         * the primary's budget per connection. */
        for (int i = 0; i < 4; i++) {
            if (i)
                *p++ = '.';
            p = put_uint(p, b[i]);
        }
        *p = '\0';
        *port = ntohs(in->sin_port);
        return (size_t) (p - buf);
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 =
            (const struct sockaddr_in6 *) (const void *) sa;
        size_t n;

        /* glibc's and libuv's (Node's) inet_ntop are the same ISC code:
         * longest run of zero words (the first of equals, two or more)
         * as "::", lowercase hex, and a dotted quad for ::ffff:0:0/96
         * and ::/96. */
        if (!inet_ntop(AF_INET6, &in6->sin6_addr, buf, ZC__ADDR_TEXT))
            return 0;
        n = strlen(buf);
        /* Node adds the interface of a scoped link-local address. */
        if (IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr) && in6->sin6_scope_id) {
            char ifname[IF_NAMESIZE];

            buf[n++] = '%';
            if (if_indextoname(in6->sin6_scope_id, ifname))
                n +=
                    (size_t) snprintf(buf + n, ZC__ADDR_TEXT - n, "%s", ifname);
            else
                n = (size_t) (put_uint(buf + n, in6->sin6_scope_id) - buf);
            buf[n] = '\0';
        }
        *port = ntohs(in6->sin6_port);
        return n;
    }
    return 0;
}

size_t zc__handoff_line(char *line, unsigned listener, const char *client,
                        unsigned client_port, const char *server,
                        unsigned server_port)
{
    char *p = put_uint(line, listener);
    size_t n;

    *p++ = ' ';
    n = client && *client ? strlen(client) : 0;
    if (n) {
        memcpy(p, client, n);
        p += n;
    } else {
        *p++ = '-';
    }
    *p++ = ' ';
    p = put_uint(p, client_port);
    *p++ = ' ';
    n = server && *server ? strlen(server) : 0;
    if (n) {
        memcpy(p, server, n);
        p += n;
    } else {
        *p++ = '-';
    }
    *p++ = ' ';
    p = put_uint(p, server ? server_port : 0);
    *p++ = '\n';
    return (size_t) (p - line);
}

/* -- the worker's end ------------------------------------------------------ */

/* Splits "TOKEN " off *p (up to end); NULL when there is none. */
static const char *field(const char **p, const char *end, size_t *len)
{
    const char *start = *p, *q = start;

    while (q < end && *q != ' ' && *q != '\n')
        q++;
    if (q == start || q == end)
        return NULL;
    *len = (size_t) (q - start);
    *p = q + 1;
    return start;
}

static bool field_uint(const char **p, const char *end, unsigned max,
                       unsigned *ret)
{
    size_t len;
    const char *s = field(p, end, &len);
    unsigned long v = 0;

    if (!s || len > 10)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long) (s[i] - '0');
    }
    if (v > max)
        return false;
    *ret = (unsigned) v;
    return true;
}

/* An address field, "-" for none, copied NUL-terminated into buf. An
 * address is printable ASCII (digits, hex, '.', ':', '%' and an interface
 * name): anything else is not one the primary wrote. */
static bool field_addr(const char **p, const char *end, char *buf, size_t size)
{
    size_t len;
    const char *s = field(p, end, &len);

    if (!s || len >= size)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return false;
    if (len == 1 && s[0] == '-')
        len = 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return true;
}

bool zc__handoff_parse(const char **p, const char *end, zc_conn *c,
                       char *client, char *server, size_t size)
{
    if (!field_uint(p, end, 65535, &c->listener) ||
        !field_addr(p, end, client, size) ||
        !field_uint(p, end, 65535, &c->client_port) ||
        !field_addr(p, end, server, size) ||
        !field_uint(p, end, 65535, &c->server_port) || (*p)[-1] != '\n')
        return false;
    c->client = client;
    c->server = server[0] ? server : NULL;
    return true;
}
