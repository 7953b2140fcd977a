/* Node's channel, our side: lines, the cluster messages a primary reads,
 * the replies it writes, and the JSON check that guards them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/json.h"
#include "proto/nodemsg.h"
#include "test.h"

struct got {
    char all[512];
    int n;
};

static int gather(const char *line, size_t len, void *ud)
{
    struct got *g = ud;

    snprintf(g->all + strlen(g->all), sizeof(g->all) - strlen(g->all),
             "[%.*s]", (int) len, line);
    g->n++;
    return 0;
}

static int parse(const char *line, struct zc__node_msg *m)
{
    char why[128];

    return zc__node_parse(line, strlen(line), m, why, sizeof(why));
}

void test_node_lines(void)
{
    struct zc__node_lines l = { 0 };
    struct got g = { .n = 0 };
    const char *in = "{\"a\":1}\n{\"b\"";
    char *big;

    ASSERT_EQ(zc__node_lines_feed(&l, in, strlen(in), gather, &g), 0);
    ASSERT_STREQ(g.all, "[{\"a\":1}]");
    ASSERT_EQ(zc__node_lines_feed(&l, ":2}\n\n", 5, gather, &g), 0);
    ASSERT_STREQ(g.all, "[{\"a\":1}][{\"b\":2}][]");
    /* A line past the limit, in pieces: refused, memory bounded. */
    big = malloc(ZC__NODE_LINE_MAX / 4);
    ASSERT(big);
    memset(big, 'x', ZC__NODE_LINE_MAX / 4);
    {
        int r = 0;

        for (int i = 0; i < 6 && r == 0; i++)
            r = zc__node_lines_feed(&l, big, ZC__NODE_LINE_MAX / 4, gather, &g);
        ASSERT_EQ(r, -E2BIG);
    }
    free(big);
    zc__node_lines_free(&l);
}

void test_node_messages(void)
{
    struct zc__node_msg m;
    char out[512];
    size_t n;

    ASSERT_EQ(parse("{\"cmd\":\"NODE_CLUSTER\",\"act\":\"online\",\"seq\":0}", &m), 0);
    ASSERT_EQ(m.kind, ZC__NODE_CLUSTER);
    ASSERT_STREQ(m.act, "online");
    ASSERT(m.has_seq && m.seq == 0);
    /* What Node 20 sends for server.listen(3000). */
    ASSERT_EQ(parse("{\"cmd\":\"NODE_CLUSTER\",\"act\":\"queryServer\",\"index\":0,"
                    "\"data\":null,\"address\":null,\"port\":3000,\"addressType\":4,"
                    "\"backlog\":0,\"seq\":1}", &m), 0);
    ASSERT_STREQ(m.act, "queryServer");
    ASSERT(m.address_null && m.port == 3000 && m.address_type == 4);
    ASSERT(!m.udp && !m.has_fd && m.seq == 1 && m.index == 0);
    ASSERT_EQ(parse("{\"cmd\":\"NODE_CLUSTER\",\"act\":\"queryServer\",\"address\":"
                    "\"::1\",\"port\":80,\"addressType\":6,\"fd\":null,\"seq\":2}",
                    &m), 0);
    ASSERT(!m.address_null && strcmp(m.address, "::1") == 0 && !m.has_fd);
    ASSERT_EQ(parse("{\"cmd\":\"NODE_CLUSTER\",\"act\":\"queryServer\",\"address\":"
                    "\"/run/a.sock\",\"port\":-1,\"addressType\":-1,\"seq\":3}", &m), 0);
    ASSERT_EQ(m.address_type, -1);
    ASSERT_EQ(parse("{\"cmd\":\"NODE_CLUSTER\",\"act\":\"queryServer\",\"address\":"
                    "null,\"port\":53,\"addressType\":\"udp4\",\"seq\":4}", &m), 0);
    ASSERT(m.udp);
    ASSERT_EQ(parse("{\"cmd\":\"NODE_HANDLE_ACK\"}", &m), 0);
    ASSERT_EQ(m.kind, ZC__NODE_HANDLE_ACK);
    ASSERT_EQ(parse("{\"cmd\":\"NODE_HANDLE_NACK\"}", &m), 0);
    ASSERT_EQ(m.kind, ZC__NODE_HANDLE_NACK);
    ASSERT_EQ(parse("{\"cmd\":\"NODE_SOMETHING\"}", &m), 0);
    ASSERT_EQ(m.kind, ZC__NODE_OTHER);
    /* The application's own messages: any JSON value. */
    ASSERT_EQ(parse("{\"hello\":\"world\"}", &m), 0);
    ASSERT_EQ(m.kind, ZC__NODE_USER);
    ASSERT_EQ(parse("[1,2]", &m), 0);
    ASSERT_EQ(parse("\"text\"", &m), 0);
    ASSERT_EQ(parse("{\"cmd\":\"mine\"}", &m), 0);
    ASSERT_EQ(m.kind, ZC__NODE_USER);
    /* Bad input. */
    ASSERT_EQ(parse("not json", &m), -EINVAL);
    ASSERT_EQ(parse("{\"cmd\":\"NODE_CLUSTER\"", &m), -EINVAL);
    ASSERT_EQ(parse("{\"cmd\":\"NODE_CLUSTER\",\"act\":\"queryServer\",\"port\":"
                    "\"80\",\"addressType\":4,\"seq\":1}", &m), -EINVAL);
    ASSERT_EQ(parse("{\"cmd\":\"NODE_CLUSTER\",\"act\":\"queryServer\",\"port\":"
                    "70000,\"addressType\":4,\"seq\":1}", &m), -EINVAL);
    ASSERT_EQ(parse("{\"cmd\":\"NODE_CLUSTER\",\"act\":\"queryServer\",\"port\":"
                    "80,\"addressType\":5,\"seq\":1}", &m), -EINVAL);
    ASSERT_EQ(parse("{\"cmd\":\"NODE_CLUSTER\",\"act\":7,\"seq\":1}", &m), -EINVAL);
    ASSERT_EQ(parse("{\"cmd\":\"NODE_CLUSTER\",\"act\":\"online\",\"seq\":\"x\"}",
                    &m), -EINVAL);
    /* Our replies, as Node's primary writes them. */
    n = zc__node_query_reply(out, sizeof(out), 1, "zc0", 0, true, 0);
    ASSERT_EQ(n, strlen(out));
    ASSERT_STREQ(out, "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Native\",\"msg\":"
                 "{\"cmd\":\"NODE_CLUSTER\",\"errno\":0,\"key\":\"zc0\",\"ack\":1,"
                 "\"data\":null,\"seq\":0}}\n");
    ASSERT(zc__json_valid(out, n - 1));
    n = zc__node_query_reply(out, sizeof(out), 2, "zc0", -98, false, 1);
    ASSERT_CONTAINS(out, "\"errno\":-98");
    n = zc__node_cluster_act(out, sizeof(out), "disconnect", 3);
    ASSERT_STREQ(out, "{\"cmd\":\"NODE_CLUSTER\",\"act\":\"disconnect\",\"seq\":3}\n");
    n = zc__node_cluster_ack(out, sizeof(out), 5, 4);
    ASSERT_STREQ(out, "{\"cmd\":\"NODE_CLUSTER\",\"ack\":5,\"seq\":4}\n");
    ASSERT_EQ(zc__node_cluster_act(out, 8, "disconnect", 3), 0);
}

void test_json_valid(void)
{
    static const char *const good[] = {
        "{}", "[]", "0", "-0.5e+3", "\"a\\u00e9\\n\"",
        (" {\"a\" : [1, true, null, {\"b\": false}]} "), "1E5", "[[[[]]]]",
    };
    static const char *const bad[] = {
        "", "{", "[1,]", "{\"a\"}", "{a:1}", "01", "1.", ".5", "tru", "nul",
        "\"\\x\"", "\"a", "[1] [2]", "{\"a\":1,}", "-", "1e", "\"\\u12\"",
        "\"tab\there\"",
    };
    char deep[300];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!zc__json_valid(good[i], strlen(good[i])))
            zt_fail(__FILE__, __LINE__, "refused good JSON: %s", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (zc__json_valid(bad[i], strlen(bad[i])))
            zt_fail(__FILE__, __LINE__, "took bad JSON: %s", bad[i]);
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    ASSERT(!zc__json_valid(deep, 200));     /* deeper than 64 */
    ASSERT(zc__json_valid(deep + 40, 120));
}
