/* The workers' output, the pure parts: lines cut from a pipe's pieces
 * (base/lines.c), a line as the primary writes it (proto/record.c), the
 * ring `zclusterctl logs` reads (base/ring.c), and who a worker runs as
 * (base/creds.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clean.h"
#include "base/creds.h"
#include "base/lines.h"
#include "base/ring.h"
#include "proto/json.h"
#include "proto/record.h"
#include "test.h"

struct got {
    char text[65536];
    size_t len;
    int lines, parts;
    size_t longest;
    unsigned last_part;
};

/* Rebuilds the stream from what came out: a part that does not end its
 * line is followed by the next with no newline between. */
static void collect(void *arg, const char *s, size_t n, unsigned part,
                    bool last)
{
    struct got *g = arg;

    ASSERT(!memchr(s, '\n', n));
    ASSERT(g->len + n + 1 < sizeof(g->text));
    memcpy(g->text + g->len, s, n);
    g->len += n;
    if (last)
        g->text[g->len++] = '\n';
    g->lines += last;
    g->parts += part != 0;
    if (n > g->longest)
        g->longest = n;
    /* parts count 1, 2, ...; a whole line is 0 */
    ASSERT(part == 0 ? g->last_part == 0 && last : part == g->last_part + 1);
    g->last_part = last ? 0 : part;
}

void test_lines_assemble(void)
{
    static char in[40000];
    struct got g = { .len = 0 };
    size_t n = 0;
    unsigned seed = 7;

    /* Short lines, empty ones, a 9000-byte one, UTF-8 across the cut. */
    for (int i = 0; i < 300; i++)
        n += (size_t) snprintf(in + n, sizeof(in) - n, "line %d%s\n", i,
                               i % 50 == 0 ? "" : " é");
    in[n++] = '\n';
    for (int i = 0; i < 3000; i++) {
        in[n++] = 'a';
        in[n++] = (char) 0xc3;
        in[n++] = (char) 0xa9;
    }
    in[n++] = '\n';
    memcpy(in + n, "tail", 4);
    n += 4;
    /* Fed in pieces of every size a pipe could give. */
    for (int limit = 16; limit <= 4096; limit *= 4) {
        struct zc__lines l = { .limit = (size_t) limit };

        memset(&g, 0, sizeof(g));
        for (size_t off = 0; off < n;) {
            size_t k = 1 + (seed = seed * 1103515245 + 12345) % 700;

            if (k > n - off)
                k = n - off;
            ASSERT_EQ(zc__lines_feed(&l, in + off, k, collect, &g), 0);
            off += k;
        }
        ASSERT(zc__lines_pending(&l));
        zc__lines_end(&l, collect, &g);
        ASSERT(!zc__lines_pending(&l));
        ASSERT_EQ(g.len, n + 1); /* "tail" got its newline */
        ASSERT(memcmp(g.text, in, n) == 0);
        ASSERT_LE(g.longest, (size_t) limit);
        ASSERT_EQ(g.lines, 303);
        ASSERT_GE(g.parts, 9000 / limit);
        zc__lines_free(&l);
    }
}

/* An unfinished line handed over (an upgrade): held as it was, at the
 * part it had reached, and finished by what the next reader feeds; one
 * over the limit, or into a reader that holds one already, is refused. */
void test_lines_hold(void)
{
    struct zc__lines l = { .limit = 16 }, busy = { .limit = 16 };
    struct got g = { .len = 0 };
    char big[17];

    ASSERT_EQ(zc__lines_hold(&l, "first half, ", 12, 0), 0);
    ASSERT(zc__lines_pending(&l));
    ASSERT_EQ(zc__lines_feed(&l, "end\n", 4, collect, &g), 0);
    ASSERT_EQ(g.lines, 1);
    ASSERT_EQ(g.len, 16);
    ASSERT(memcmp(g.text, "first half, end\n", 16) == 0);
    ASSERT(!zc__lines_pending(&l));
    /* Its third part was cut already: the next is the fourth. */
    memset(&g, 0, sizeof(g));
    g.last_part = 2;
    ASSERT_EQ(zc__lines_hold(&l, "abc", 3, 2), 0);
    ASSERT_EQ(zc__lines_feed(&l, "def\n", 4, collect, &g), 0);
    ASSERT_EQ(g.lines, 1);
    memset(big, 'x', sizeof(big));
    ASSERT_EQ(zc__lines_hold(&busy, big, sizeof(big), 0), -EINVAL);
    ASSERT_EQ(zc__lines_hold(&busy, "x", 1, 0), 0);
    ASSERT_EQ(zc__lines_hold(&busy, "y", 1, 0), -EINVAL);
    zc__lines_free(&l);
    zc__lines_free(&busy);
}

/* A cut never splits a UTF-8 character: every part is valid UTF-8. */
static void utf8_part(void *arg, const char *s, size_t n, unsigned part,
                      bool last)
{
    (void) part;
    (void) last;
    ASSERT(zc__printable_utf8(s, n));
    (*(int *) arg)++;
}

void test_lines_utf8_cut(void)
{
    char in[1000];
    struct zc__lines l = { .limit = 100 };
    int parts = 0;

    for (size_t i = 0; i < 999; i += 3)
        memcpy(in + i, "\xe2\x82\xac", 3); /* € */
    ASSERT_EQ(zc__lines_feed(&l, in, 999, utf8_part, &parts), 0);
    zc__lines_end(&l, utf8_part, &parts);
    ASSERT_GE(parts, 10);
    zc__lines_free(&l);
}

static const struct zc__record rec = {
    .when = "2026-12-05T09:00:00.000Z",
    .fleet = "shop",
    .slot = 2,
    .worker = 7,
    .pid = 3121,
    .gen = 3,
    .err = true,
};

void test_record_prefix(void)
{
    struct zc__buf b = { 0 };
    struct zc__record r = rec;

    zc__record_prefix(&b, &r, "hello", 5);
    ASSERT_STREQ(b.data, "2026-12-05T09:00:00.000Z shop[2] worker 7 pid 3121 "
                         "gen 3 err: hello\n");
    b.len = 0;
    r.part = 2;
    r.last = true;
    r.err = false;
    zc__record_prefix(&b, &r, "x", 1);
    ASSERT_CONTAINS(b.data, " gen 3 out (part 2, last): x\n");
    free(b.data);
}

/* Whatever the bytes, the record is one valid JSON object on one line. */
void test_record_json_any_bytes(void)
{
    struct zc__buf b = { 0 };
    char all[256], field[64];

    for (int i = 0; i < 256; i++)
        all[i] = (char) i;
    zc__record_json(&b, &rec, all, sizeof(all));
    ASSERT(b.len > 0 && b.data[b.len - 1] == '\n');
    ASSERT(!memchr(b.data, '\n', b.len - 1));
    ASSERT(zc__json_valid(b.data, b.len - 1));
    ASSERT_EQ(zc__json_field(b.data, b.len, "zc_pid", field, sizeof(field)), 4);
    ASSERT_STREQ(field, "3121");
    ASSERT_CONTAINS(b.data, "\"zc_stream\":\"err\"");
    /* A byte that is not UTF-8 is kept as the text \xHH. */
    ASSERT_CONTAINS(b.data, "\\\\xff");
    ASSERT_CONTAINS(b.data, "\\u0001");
    free(b.data);
}

void test_record_json_merge(void)
{
    struct zc__buf b = { 0 };
    char v[64];

    /* A JSON line keeps its fields as fields. */
    zc__record_json(&b, &rec, " {\"level\":30, \"msg\":\"up\"} ", 26);
    ASSERT(zc__json_valid(b.data, b.len - 1));
    ASSERT_EQ(zc__json_field(b.data, b.len, "level", v, sizeof(v)), 2);
    ASSERT_EQ(zc__json_field(b.data, b.len, "msg", v, sizeof(v)), 2);
    ASSERT_STREQ(v, "up");
    /* One of our names: wrapped, so that no key is given twice. */
    b.len = 0;
    zc__record_json(&b, &rec, "{\"zc_pid\":1}", 12);
    ASSERT(zc__json_valid(b.data, b.len - 1));
    ASSERT_EQ(zc__json_field(b.data, b.len, "msg", v, sizeof(v)), 12);
    ASSERT_STREQ(v, "{\"zc_pid\":1}");
    /* The empty object, and what is not an object. */
    b.len = 0;
    zc__record_json(&b, &rec, "{}", 2);
    ASSERT(zc__json_valid(b.data, b.len - 1));
    ASSERT_EQ(zc__json_field(b.data, b.len, "msg", v, sizeof(v)), -ENOENT);
    b.len = 0;
    zc__record_json(&b, &rec, "{\"a\":1} x", 9);
    ASSERT(zc__json_valid(b.data, b.len - 1));
    ASSERT_EQ(zc__json_field(b.data, b.len, "msg", v, sizeof(v)), 9);
    ASSERT(!zc__record_mergeable("{\"a\":\"\xff\"}", 10));
    ASSERT(zc__record_mergeable("{\"a\":[1,{\"b\":null}]}", 20));
    /* A long line's parts are never merged. */
    b.len = 0;
    {
        struct zc__record r = rec;

        r.part = 1;
        zc__record_json(&b, &r, "{\"a\":1}", 7);
        ASSERT_EQ(zc__json_field(b.data, b.len, "zc_part", v, sizeof(v)), 1);
        ASSERT_EQ(zc__json_field(b.data, b.len, "zc_last", v, sizeof(v)), 5);
        ASSERT_EQ(zc__json_field(b.data, b.len, "msg", v, sizeof(v)), 7);
    }
    free(b.data);
}

static int slot_odd(void *arg, unsigned slot)
{
    (void) arg;
    return slot % 2;
}

static void ring_line(void *arg, const char *s, size_t n)
{
    struct zc__buf *b = arg;

    zc__buf_add(b, s, n);
    ZC__BUF_LIT(b, "|");
}

void test_ring_bounded(void)
{
    struct zc__ring r = { .max_bytes = 4096 };
    struct zc__buf b = { 0 };
    char line[32];

    for (unsigned i = 0; i < 1000; i++) {
        int n = snprintf(line, sizeof(line), "%u:%u", i % 4, i);

        ASSERT_EQ(zc__ring_add(&r, i % 4, line, (size_t) n), 0);
        ASSERT_LE(r.bytes, 4096);
    }
    ASSERT_GE(r.n, 50);
    /* The last three of the odd slots, oldest first. */
    zc__ring_each(&r, 3, slot_odd, ring_line, &b);
    ASSERT_STREQ(b.data, "3:995|1:997|3:999|");
    /* Larger than the whole ring: not kept, nothing else lost. */
    {
        size_t before = r.n;
        char *big = calloc(1, 8192);

        ASSERT_EQ(zc__ring_add(&r, 0, big, 8192), 0);
        ASSERT_EQ(r.n, before);
        free(big);
    }
    zc__ring_free(&r);
    ASSERT_EQ(r.bytes, 0);
    free(b.data);
}

void test_creds_resolve(void)
{
    struct zc__creds c;
    char why[256];

    ASSERT_EQ(zc__creds_resolve(&c, "nobody", NULL, why, sizeof(why)), 0);
    ASSERT(c.set_uid && c.set_gid);
    ASSERT_EQ(c.uid, 65534);
    ASSERT_STREQ(c.user, "nobody");
    ASSERT_GE(c.n_groups, 1);
    ASSERT_EQ(c.groups[0], c.gid);
    zc__creds_free(&c);
    /* A uid with no entry: its group is the gid of the same number. */
    ASSERT_EQ(zc__creds_resolve(&c, "4321", NULL, why, sizeof(why)), 0);
    ASSERT_EQ(c.uid, 4321);
    ASSERT_EQ(c.gid, 4321);
    ASSERT_EQ(c.n_groups, 1);
    zc__creds_free(&c);
    ASSERT_EQ(zc__creds_resolve(&c, "4321:0", NULL, why, sizeof(why)), 0);
    ASSERT_EQ(c.gid, 0);
    zc__creds_free(&c);
    /* --group alone changes the group only. */
    ASSERT_EQ(zc__creds_resolve(&c, NULL, "0", why, sizeof(why)), 0);
    ASSERT(!c.set_uid && c.set_gid);
    zc__creds_free(&c);
    ASSERT_EQ(zc__creds_resolve(&c, "no-such-user-zc", NULL, why, sizeof(why)),
              -ENOENT);
    ASSERT_CONTAINS(why, "invalid --user 'no-such-user-zc': no such user");
    ASSERT_EQ(zc__creds_resolve(&c, "nobody:no-such-group-zc", NULL, why,
                                sizeof(why)),
              -ENOENT);
    ASSERT_CONTAINS(why, "no such group");
    ASSERT_EQ(zc__creds_resolve(&c, "nobody:0", "1", why, sizeof(why)),
              -EINVAL);
    ASSERT_CONTAINS(why, "two different groups");
    ASSERT_EQ(zc__creds_resolve(&c, "nobody:", NULL, why, sizeof(why)),
              -EINVAL);
    ASSERT_EQ(zc__creds_resolve(&c, ":x", NULL, why, sizeof(why)), -EINVAL);
}
