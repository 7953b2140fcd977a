/* The state a primary hands to the image it executes (proto/state.c):
 * records and sections written and read back, and every way bytes from
 * elsewhere can be wrong refused. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/state.h"
#include "test.h"

void test_state_roundtrip(void)
{
    struct zc__state_w w;
    struct zc__state_r r, in;
    struct zc__state_rec rec, inner;
    uint8_t *data;
    size_t len;
    uint32_t version;
    uint64_t v;
    char why[128], text[32];

    zc__state_begin(&w);
    zc__state_u64(&w, 1, 42);
    zc__state_open(&w, 2);
    zc__state_text(&w, 3, "worker");
    zc__state_u64(&w, 4, UINT64_MAX);
    zc__state_close(&w);
    zc__state_bytes(&w, 77, "\0\1\2", 3); /* a tag an older image skips */
    data = zc__state_finish(&w, &len);
    ASSERT(data);

    ASSERT_EQ(zc__state_open_read(&r, data, len, &version, why, sizeof(why)),
              0);
    ASSERT_EQ(version, ZC__STATE_VERSION);
    ASSERT_EQ(zc__state_next(&r, &rec), 1);
    ASSERT_EQ(rec.tag, 1);
    ASSERT_EQ(zc__state_get_u64(&rec, &v), 0);
    ASSERT_EQ(v, 42);
    ASSERT_EQ(zc__state_next(&r, &rec), 1);
    ASSERT_EQ(rec.tag, 2 | ZC__STATE_SECTION);
    zc__state_enter(&in, &rec);
    ASSERT_EQ(zc__state_next(&in, &inner), 1);
    ASSERT_EQ(zc__state_get_text(&inner, text, sizeof(text)), 0);
    ASSERT_STREQ(text, "worker");
    ASSERT_EQ(zc__state_get_u64(&inner, &v), -EINVAL); /* 6 bytes */
    ASSERT_EQ(zc__state_next(&in, &inner), 1);
    ASSERT_EQ(zc__state_get_u64(&inner, &v), 0);
    ASSERT(v == UINT64_MAX);
    ASSERT_EQ(zc__state_next(&in, &inner), 0);
    ASSERT_EQ(zc__state_next(&r, &rec), 1);
    ASSERT_EQ(rec.tag, 77);
    ASSERT_EQ(rec.len, 3);
    ASSERT_EQ(zc__state_get_text(&rec, text, sizeof(text)), -EINVAL);
    ASSERT_EQ(zc__state_next(&r, &rec), 0);
    free(data);
}

void test_state_refused(void)
{
    struct zc__state_w w;
    struct zc__state_r r;
    struct zc__state_rec rec;
    uint8_t *data;
    size_t len;
    uint32_t version;
    char why[128];

    zc__state_begin(&w);
    zc__state_u64(&w, 1, 7);
    zc__state_u64(&w, 2, 8);
    data = zc__state_finish(&w, &len);
    ASSERT(data);

    ASSERT_EQ(zc__state_open_read(&r, "nope", 4, &version, why, sizeof(why)),
              -EINVAL);
    ASSERT_CONTAINS(why, "not a zcluster state");
    ASSERT_EQ(zc__state_open_read(&r, data, len - 1, &version, why,
                                  sizeof(why)),
              -EINVAL);
    ASSERT_CONTAINS(why, "says");
    data[len - 1] ^= 1;
    ASSERT_EQ(zc__state_open_read(&r, data, len, &version, why, sizeof(why)),
              -EINVAL);
    ASSERT_CONTAINS(why, "checksum");
    data[len - 1] ^= 1;
    /* A record that says it is longer than what is left: the walk stops. */
    r = (struct zc__state_r) { data + ZC__STATE_HEADER, data + len - 4 };
    ASSERT_EQ(zc__state_next(&r, &rec), 1);
    ASSERT_EQ(zc__state_next(&r, &rec), -EINVAL);
    ASSERT_EQ(zc__state_next(&r, &rec), 0);
    free(data);

    /* Sections left open, closed twice, or nested too deep: no state. */
    zc__state_begin(&w);
    zc__state_open(&w, 1);
    ASSERT(!zc__state_finish(&w, &len));
    zc__state_begin(&w);
    zc__state_close(&w);
    ASSERT(!zc__state_finish(&w, &len));
    zc__state_begin(&w);
    for (int i = 0; i < 9; i++)
        zc__state_open(&w, 1);
    ASSERT(w.failed);
    ASSERT(!zc__state_finish(&w, &len));
}
