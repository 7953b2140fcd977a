/*
 * The PROXY protocol header, v1 (text) and v2 (binary), as HAProxy
 * documents it (doc/proxy-protocol.txt): what a balancer in front puts
 * before the client's first byte. Pure; fuzzed (tests/fuzz/fuzz-parsers.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "proto/handoff.h"
#include "proto/proxy.h"

_Static_assert(ZC__PROXY_MAX == 1040, "ZC__PROXY_MAX_TEXT says another size");

static const uint8_t v2_sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                    0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

static int bad(const char **why, const char *text)
{
    *why = text;
    return -EBADMSG;
}

/* Re-prints a parsed address the way a direct client's would read. */
static void text_of(int family, const void *addr, uint16_t port_be,
                    char *buf, unsigned *port)
{
    struct sockaddr_storage ss;

    memset(&ss, 0, sizeof(ss));
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *) &ss;

        in->sin_family = AF_INET;
        memcpy(&in->sin_addr, addr, 4);
        in->sin_port = port_be;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;

        in6->sin6_family = AF_INET6;
        memcpy(&in6->sin6_addr, addr, 16);
        in6->sin6_port = port_be;
    }
    (void) zc__handoff_addr_text((struct sockaddr *) &ss, buf, port);
}

/* A v1 port: 0..65535, decimal, no leading zero, no sign. */
static bool v1_port(const char *s, size_t n, uint16_t *ret)
{
    unsigned v = 0;

    if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned) (s[i] - '0');
    }
    if (v > 65535)
        return false;
    *ret = htons((uint16_t) v);
    return true;
}

/* The v1 line's limits, as the format says: at most 107 bytes with its
 * CRLF, and six fields (PROXY, the family, two addresses, two ports). */
#define V1_MAX 107
#define V1_FIELDS 6
#define STR_(x) #x
#define STR(x) STR_(x)

/* "PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n", at most V1_MAX bytes. */
static int parse_v1(const uint8_t *buf, size_t len, struct zc__proxy *px,
                    const char **why)
{
    const char *s = (const char *) buf, *f[V1_FIELDS];
    size_t flen[V1_FIELDS], end, nf = 0;
    uint8_t a[2][16];
    uint16_t ports[2];
    int family;

    for (end = 0; end < len && end < V1_MAX; end++)
        if (buf[end] == '\n')
            break;
    if (end == len && len < V1_MAX)
        return 0;
    if (end == len || end >= V1_MAX || end == 0 || buf[end - 1] != '\r')
        return bad(why, "PROXY v1 line is not ended by CRLF within " STR(
                            V1_MAX) " bytes");
    /* Fields separated by single spaces, as the format says. */
    for (size_t i = 6, start = 6; i <= end - 1; i++) {
        if (i < end - 1 && s[i] != ' ')
            continue;
        if (i == start || nf == V1_FIELDS)
            return bad(why, "PROXY v1 line has empty or extra fields");
        f[nf] = s + start;
        flen[nf++] = i - start;
        start = i + 1;
    }
    if (nf >= 1 && flen[0] == 7 && memcmp(f[0], "UNKNOWN", 7) == 0) {
        px->local = true;       /* the rest of the line is to be ignored */
        return (int) end + 1;
    }
    if (nf != 5)
        return bad(why, "PROXY v1 line does not have 5 fields");
    if (flen[0] == 4 && memcmp(f[0], "TCP4", 4) == 0)
        family = AF_INET;
    else if (flen[0] == 4 && memcmp(f[0], "TCP6", 4) == 0)
        family = AF_INET6;
    else
        return bad(why, "PROXY v1 protocol is not TCP4, TCP6 or UNKNOWN");
    for (int i = 0; i < 2; i++) {
        char text[48];

        if (flen[1 + i] >= sizeof(text))
            return bad(why, "PROXY v1 address is too long");
        memcpy(text, f[1 + i], flen[1 + i]);
        text[flen[1 + i]] = '\0';
        if (inet_pton(family, text, a[i]) != 1)
            return bad(why, "PROXY v1 address does not parse");
        if (!v1_port(f[3 + i], flen[3 + i], &ports[i]))
            return bad(why, "PROXY v1 port is not a number from 0 to 65535");
    }
    px->local = false;
    text_of(family, a[0], ports[0], px->client, &px->client_port);
    text_of(family, a[1], ports[1], px->server, &px->server_port);
    return (int) end + 1;
}

static int parse_v2(const uint8_t *buf, size_t len, struct zc__proxy *px,
                    const char **why)
{
    size_t body, total, alen;
    uint16_t p0, p1;
    int family;

    if (len < 16)
        return 0;
    if ((buf[12] >> 4) != 2)
        return bad(why, "PROXY v2 header has another version");
    if ((buf[12] & 0x0f) > 1)
        return bad(why, "PROXY v2 command is neither LOCAL nor PROXY");
    body = (size_t) buf[14] << 8 | buf[15];
    total = 16 + body;
    if (total > ZC__PROXY_MAX)
        return bad(why, "PROXY v2 header is longer than 1040 bytes");
    if (len < total)
        return 0;
    px->local = true;
    if ((buf[12] & 0x0f) == 0)          /* LOCAL: the proxy's own check */
        return (int) total;
    switch (buf[13]) {
    case 0x11:                          /* TCP (or UDP) over IPv4 */
    case 0x12:
        family = AF_INET;
        alen = 4;
        break;
    case 0x21:                          /* TCP (or UDP) over IPv6 */
    case 0x22:
        family = AF_INET6;
        alen = 16;
        break;
    case 0x00:                          /* UNSPEC */
    case 0x31:                          /* unix: no address to hash */
    case 0x32:
        return (int) total;
    default:
        return bad(why, "PROXY v2 address family is unknown");
    }
    /* Source and destination addresses, then their ports. */
    if (body < 2 * alen + 4)
        return bad(why, "PROXY v2 addresses are truncated");
    memcpy(&p0, buf + 16 + 2 * alen, 2);
    memcpy(&p1, buf + 18 + 2 * alen, 2);
    text_of(family, buf + 16, p0, px->client, &px->client_port);
    text_of(family, buf + 16 + alen, p1, px->server, &px->server_port);
    px->local = false;
    return (int) total;
}

int zc__proxy_parse(const uint8_t *buf, size_t len, struct zc__proxy *ret,
                    const char **why)
{
    static const char v1_sig[6] = "PROXY ";
    size_t n = len < sizeof(v2_sig) ? len : sizeof(v2_sig);

    memset(ret, 0, sizeof(*ret));
    /* Either signature, as far as the bytes go: a prefix of one is a
     * valid beginning, anything else is refused at once. */
    if (memcmp(buf, v2_sig, n) == 0)
        return len < sizeof(v2_sig) ? 0 : parse_v2(buf, len, ret, why);
    n = len < sizeof(v1_sig) ? len : sizeof(v1_sig);
    if (memcmp(buf, v1_sig, n) == 0)
        return len < sizeof(v1_sig) ? 0 : parse_v1(buf, len, ret, why);
    return bad(why, "no PROXY protocol signature");
}
