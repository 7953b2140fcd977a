/* Sticky sessions, the pure parts: Node's address text and the spec's
 * hash (checked against Node itself), PROXY headers, hand-off records. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/handoff.h"
#include "proto/proxy.h"
#include "test.h"

static const unsigned counts[] = { 1, 2, 3, 4, 5, 7, 8, 16, 100, 4096 };

/* Our line for one address, in tests/data/iphash.js's format. */
static void our_line(const char *addr, char *out, size_t size)
{
    struct sockaddr_storage ss = { 0 };
    char text[ZC__ADDR_TEXT];
    unsigned port;
    size_t n;

    if (strchr(addr, ':')) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;

        in6->sin6_family = AF_INET6;
        ASSERT(inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1);
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *) &ss;

        in->sin_family = AF_INET;
        ASSERT(inet_pton(AF_INET, addr, &in->sin_addr) == 1);
    }
    zc__handoff_addr_text((struct sockaddr *) &ss, text, &port);
    n = (size_t) snprintf(out, size, "%s", text);
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
        n += (size_t) snprintf(out + n, size - n, " %u",
                               zc_default_ip_hash(text, counts[i]));
}

/*
 * Every address of tests/data/iphash.txt, printed as Node prints a
 * socket's address and hashed for 10 worker counts: the same as Node
 * running the spec's _defaultIpHash (tests/data/iphash.js), or, without
 * node, as its recorded output.
 */
void test_sticky_hash_matches_node(void)
{
    char *list = zt_read_file("tests/data/iphash.txt"), *golden = NULL;
    char cmd[16384], ours[256], theirs[256], *save = NULL;
    FILE *node = NULL;
    bool live = access("/usr/bin/node", X_OK) == 0;
    int n = 0;

    ASSERT(list);
    if (live) {
        size_t len = (size_t) snprintf(cmd, sizeof(cmd),
                                       "/usr/bin/node tests/data/iphash.js");

        for (char *l = list; *l; l += strcspn(l, "\n"), l += *l == '\n')
            len += (size_t) snprintf(cmd + len, sizeof(cmd) - len, " '%.*s'",
                                     (int) strcspn(l, "\n"), l);
        ASSERT(len < sizeof(cmd));
        node = popen(cmd, "r");
        ASSERT(node);
    } else {
        golden = zt_read_file("tests/data/iphash.golden");
        ASSERT(golden);
        printf("# node is not installed: checking against "
                "tests/data/iphash.golden, its recorded output\n");
    }
    for (char *addr = strtok_r(list, "\n", &save); addr;
         addr = strtok_r(NULL, "\n", &save)) {
        our_line(addr, ours, sizeof(ours));
        if (node) {
            ASSERT(fgets(theirs, sizeof(theirs), node));
        } else {
            size_t k = strcspn(golden, "\n");

            ASSERT(k > 0 && k < sizeof(theirs));
            memcpy(theirs, golden, k);
            theirs[k] = '\0';
            golden += k + (golden[k] == '\n');
        }
        theirs[strcspn(theirs, "\n")] = '\0';
        if (strcmp(ours, theirs) != 0)
            zt_fail(__FILE__, __LINE__, "%s: we say \"%s\", Node \"%s\"",
                    addr, ours, theirs);
        n++;
    }
    if (node)
        ASSERT_EQ(pclose(node), 0);
    ASSERT_GE(n, 30);
    /* Text that is not an address hashes like any other string. */
    ASSERT_EQ(zc_default_ip_hash("", 7), 5381 % 7);
    ASSERT_EQ(zc_default_ip_hash("127.0.0.1", 0), 0);
    ASSERT_EQ(zc_default_ip_hash(NULL, 3), 0);
}

static int parse(const char *s, size_t len, struct zc__proxy *px)
{
    const char *why = NULL;
    int r = zc__proxy_parse((const uint8_t *) s, len, px, &why);

    if (r < 0)
        ASSERT(why);
    return r;
}

#define PARSE(s, px) parse(s, sizeof(s) - 1, px)

void test_sticky_proxy_parse(void)
{
    static const char v1[] = "PROXY TCP4 203.0.113.7 198.51.100.1 51000 443\r\nGET";
    static const char v2[] = "\r\n\r\n\0\r\nQUIT\n\x21\x21\x00\x24"
        "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x09"
        "\x20\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\x00\x07\x01\xbb" "data";
    static const char *const refused[] = {
        "GET / HTTP/1.1\r\n", "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
        "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", "PROXY TCP4 ::1 5.6.7.8 1 2\r\n",
        "PROXY TCP6 1.2.3.4 ::1 1 2\r\n", "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n", "PROXY TCP4 1.2.3.4 5.6.7.8 1 0x2\r\n",
        "PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "PROXY \r\n",
    };
    struct zc__proxy px;
    char buf[300];

    ASSERT_EQ(PARSE(v1, &px), (int) sizeof(v1) - 1 - 3);
    ASSERT(!px.local);
    ASSERT_STREQ(px.client, "203.0.113.7");
    ASSERT_EQ(px.client_port, 51000);
    ASSERT_STREQ(px.server, "198.51.100.1");
    ASSERT_EQ(px.server_port, 443);
    /* Every beginning of a valid header asks for more. */
    for (size_t k = 0; k < sizeof(v1) - 1 - 3; k++)
        ASSERT_EQ(parse(v1, k, &px), 0);
    ASSERT_EQ(parse(v2, sizeof(v2) - 1, &px), 16 + 36);
    ASSERT_STREQ(px.client, "2001:db8::9");
    ASSERT_EQ(px.client_port, 7);
    ASSERT_STREQ(px.server, "2001::1");
    ASSERT_EQ(px.server_port, 443);
    for (size_t k = 0; k < 16 + 36; k++)
        ASSERT_EQ(parse(v2, k, &px), 0);
    /* Addresses come out as Node would print them. */
    ASSERT(PARSE("PROXY TCP6 ::FFFF:1.2.3.4 0:0::1 1 2\r\n", &px) > 0);
    ASSERT_STREQ(px.client, "::ffff:1.2.3.4");
    ASSERT_STREQ(px.server, "::1");
    ASSERT(PARSE("PROXY UNKNOWN\r\n", &px) > 0);
    ASSERT(px.local);
    ASSERT(PARSE("PROXY UNKNOWN 1.2.3.4 whatever\r\n", &px) > 0);
    ASSERT(px.local);
    /* The longest v1 line is 107 bytes with its CRLF. */
    memset(buf, 0, sizeof(buf));
    snprintf(buf, sizeof(buf), "PROXY UNKNOWN %091d\r\n", 0);
    ASSERT_EQ(strlen(buf), 107);
    ASSERT_EQ(parse(buf, strlen(buf), &px), 107);
    snprintf(buf, sizeof(buf), "PROXY UNKNOWN %092d\r\n", 0);
    ASSERT_EQ(parse(buf, strlen(buf), &px), -EBADMSG);
    ASSERT_EQ(parse(buf, 106, &px), 0);
    ASSERT_EQ(parse(buf, 107, &px), -EBADMSG);
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (parse(refused[i], strlen(refused[i]), &px) != -EBADMSG)
            zt_fail(__FILE__, __LINE__, "not refused: %s", refused[i]);
    ASSERT_EQ(parse("\r\n\r\n\0\r\nQUIX\n", 12, &px), -EBADMSG);
    /* v2: LOCAL, unix and UNSPEC carry nothing to hash; bad fields refused. */
    memcpy(buf, v2, 16);
    buf[12] = 0x20, buf[13] = 0, buf[14] = 0, buf[15] = 0;
    ASSERT_EQ(parse(buf, 16, &px), 16);
    ASSERT(px.local);
    buf[12] = 0x21, buf[13] = 0x31, buf[15] = (char) 216;
    memset(buf + 16, 0, 216);
    ASSERT_EQ(parse(buf, 16 + 216, &px), 16 + 216);
    ASSERT(px.local);
    buf[13] = 0x11, buf[15] = 11;
    ASSERT_EQ(parse(buf, 16 + 11, &px), -EBADMSG);      /* IPv4 cut */
    buf[13] = 0x41, buf[15] = 12;
    ASSERT_EQ(parse(buf, 16 + 12, &px), -EBADMSG);      /* family 4 */
    buf[12] = 0x11;
    ASSERT_EQ(parse(buf, 16, &px), -EBADMSG);           /* version 1 */
    buf[12] = 0x2f;
    ASSERT_EQ(parse(buf, 16, &px), -EBADMSG);           /* command 15 */
    buf[12] = 0x21, buf[14] = 0x04, buf[15] = 0x11;
    ASSERT_EQ(parse(buf, 16, &px), -EBADMSG);           /* 1041 + 16 */
}

void test_sticky_conn_record(void)
{
    char line[ZC__CONN_LINE];
    size_t n;

    n = zc__handoff_line(line, 3, "::ffff:127.0.0.5", 40312, NULL, 443);
    ASSERT_EQ(n, strlen("3 ::ffff:127.0.0.5 40312 - 0\n"));
    ASSERT(memcmp(line, "3 ::ffff:127.0.0.5 40312 - 0\n", n) == 0);
    n = zc__handoff_line(line, 0, "", 0, "2001:db8::1", 65535);
    ASSERT(memcmp(line, "0 - 0 2001:db8::1 65535\n", n) == 0);
    /* The longest possible record fits. */
    n = zc__handoff_line(line, 65535, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
                         65535, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
                         65535);
    ASSERT_LE(n, sizeof(line));
}

/* The worker's side: what the primary writes reads back; anything else is
 * refused, control and NUL bytes in an address included (found by
 * tests/fuzz/fuzz-handoff.c). */
void test_handoff_parse(void)
{
    static const char good[] = "3 ::ffff:127.0.0.5 40312 - 0\n0 - 0 2001:db8::1 65535\n";
    static const char *const bad[] = {
        "1 1.2.3.4 70000 - 0\n", "1 1.2.3.4 80 - 0", "1  1.2.3.4 80 - 0\n",
        "x 1.2.3.4 80 - 0\n", "1 1.2.3.4 80 -\n", "2 -\0\0 0 - 0\n",
        "2 a\tb 0 - 0\n", "2 \xff 0 - 0\n",
    };
    char client[128], server[128];
    const char *p = good, *end = good + strlen(good);
    zc_conn c = { .fd = -1 };

    ASSERT(zc__handoff_parse(&p, end, &c, client, server, sizeof(client)));
    ASSERT_EQ(c.listener, 3);
    ASSERT_STREQ(c.client, "::ffff:127.0.0.5");
    ASSERT_EQ(c.client_port, 40312);
    ASSERT(c.server == NULL);
    ASSERT(zc__handoff_parse(&p, end, &c, client, server, sizeof(client)));
    ASSERT_STREQ(c.client, "");
    ASSERT_STREQ(c.server, "2001:db8::1");
    ASSERT_EQ(c.server_port, 65535);
    ASSERT(p == end);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        p = bad[i];
        end = bad[i] + (i == 5 ? 12 : strlen(bad[i]));
        ASSERT(!zc__handoff_parse(&p, end, &c, client, server, sizeof(client)));
    }
}
