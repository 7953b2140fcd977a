/* Backoff arithmetic, parsers, signal names, the timer heap on a fake
 * clock, notify message fields. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "base/compat.h"
#include "base/loop.h"
#include "proto/notify.h"
#include "base/backoff.h"
#include "base/parse.h"
#include "primary/life/respawn.h"
#include "test.h"

void test_backoff_arithmetic(void)
{
    /* The defaults: 1 s, doubling, capped at 30 s. */
    ASSERT_EQ(zc__backoff_ms(1000, 2, 30000, 1), 1000);
    ASSERT_EQ(zc__backoff_ms(1000, 2, 30000, 2), 2000);
    ASSERT_EQ(zc__backoff_ms(1000, 2, 30000, 3), 4000);
    ASSERT_EQ(zc__backoff_ms(1000, 2, 30000, 5), 16000);
    ASSERT_EQ(zc__backoff_ms(1000, 2, 30000, 6), 30000);
    ASSERT_EQ(zc__backoff_ms(1000, 2, 30000, 1000000), 30000);
    ASSERT_EQ(zc__backoff_ms(1000, 2, 30000, 0), 1000);
    /* Factor 1: constant; factor 1.5: fractional growth. */
    ASSERT_EQ(zc__backoff_ms(100, 1, 30000, 50), 100);
    ASSERT_EQ(zc__backoff_ms(100, 1.5, 30000, 3), 225);
    /* Zero delay stays zero; huge factors saturate at the cap. */
    ASSERT_EQ(zc__backoff_ms(0, 2, 30000, 10), 0);
    ASSERT_EQ(zc__backoff_ms(1, 1000, 4000000000u, 100), 4000000000u);
    ASSERT_EQ(zc__backoff_ms(5000, 2, 1000, 1), 1000);
}

void test_parse_size(void)
{
    static const struct { const char *s; uint64_t v; } ok[] = {
        { "0", 0 }, { "4096", 4096 }, { "4096B", 4096 }, { "512K", 524288 },
        { "512k", 524288 }, { "512KB", 524288 }, { "512KiB", 524288 },
        { "768M", 805306368 }, { "768MB", 805306368 }, { "768MiB", 805306368 },
        { "1.5G", 1610612736 }, { "1g", 1073741824 }, { "2T", 2199023255552ull },
    };
    static const char *const bad[] = {
        "", "M", "-1M", "12Q", "12MM", "12Mi", "12 M", "0x10", "1e3", "1..2G",
        "12mb ", "inf", "nan",
    };
    uint64_t v;

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ASSERT_EQ(zc__parse_size(ok[i].s, UINT64_MAX / 2, &v), 0);
        ASSERT_EQ(v, ok[i].v);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ASSERT_EQ(zc__parse_size(bad[i], UINT64_MAX / 2, &v), -EINVAL);
    ASSERT_EQ(zc__parse_size("2G", 1073741824, &v), -ERANGE);
}

void test_parse_duration(void)
{
    uint32_t ms = 0;
    unsigned long n = 0;

    ASSERT_EQ(zc__parse_duration_ms("250", 100000, &ms), 0);
    ASSERT_EQ(ms, 250);
    ASSERT_EQ(zc__parse_duration_ms("250ms", 100000, &ms), 0);
    ASSERT_EQ(ms, 250);
    ASSERT_EQ(zc__parse_duration_ms("2s", 100000, &ms), 0);
    ASSERT_EQ(ms, 2000);
    ASSERT_EQ(zc__parse_duration_ms("1.5s", 100000, &ms), 0);
    ASSERT_EQ(ms, 1500);
    ASSERT_EQ(zc__parse_duration_ms("1m", 100000, &ms), 0);
    ASSERT_EQ(ms, 60000);
    ASSERT_EQ(zc__parse_duration_ms("0", 100000, &ms), 0);
    ASSERT_EQ(ms, 0);
    ASSERT_EQ(zc__parse_duration_ms("2m", 100000, &ms), -ERANGE);
    ASSERT_EQ(zc__parse_duration_ms("-1", 100000, &ms), -EINVAL);
    ASSERT_EQ(zc__parse_duration_ms("1h", 100000, &ms), -ERANGE);
    ASSERT_EQ(zc__parse_duration_ms("1h", 86400000, &ms), 0);
    ASSERT_EQ(ms, 3600000u);
    ASSERT_EQ(zc__parse_duration_ms("1.5h", 86400000, &ms), 0);
    ASSERT_EQ(ms, 5400000u);
    ASSERT_EQ(zc__parse_duration_ms("0x10", 100000, &ms), -EINVAL);
    ASSERT_EQ(zc__parse_duration_ms("1e3", 100000, &ms), -EINVAL);
    ASSERT_EQ(zc__parse_duration_ms("1..5s", 100000, &ms), -EINVAL);
    ASSERT_EQ(zc__parse_duration_ms("1hh", 100000000, &ms), -EINVAL);
    ASSERT_EQ(zc__parse_duration_ms("", 100000, &ms), -EINVAL);
    ASSERT_EQ(zc__parse_duration_ms("s", 100000, &ms), -EINVAL);
    ASSERT_EQ(zc__parse_duration_ms("1e400", 100000, &ms), -EINVAL);
    ASSERT_EQ(zc__parse_duration_ms("nan", 100000, &ms), -EINVAL);
    ASSERT_EQ(zc__parse_uint("4096", 1, 4096, &n), 0);
    ASSERT_EQ(n, 4096);
    ASSERT_EQ(zc__parse_uint("4097", 1, 4096, &n), -ERANGE);
    ASSERT_EQ(zc__parse_uint("0", 1, 4096, &n), -ERANGE);
    ASSERT_EQ(zc__parse_uint("abc", 1, 4096, &n), -EINVAL);
    ASSERT_EQ(zc__parse_uint("4x", 1, 4096, &n), -EINVAL);
    ASSERT_EQ(zc__parse_uint("-1", 1, 4096, &n), -EINVAL);
    ASSERT_EQ(zc__parse_uint("", 1, 4096, &n), -EINVAL);
    ASSERT_EQ(zc__parse_uint("99999999999999999999999", 1, 4096, &n), -ERANGE);
}

void test_signal_names(void)
{
    ASSERT_EQ(zc__signal_parse("TERM"), SIGTERM);
    ASSERT_EQ(zc__signal_parse("SIGTERM"), SIGTERM);
    ASSERT_EQ(zc__signal_parse("sigquit"), SIGQUIT);
    ASSERT_EQ(zc__signal_parse("usr1"), SIGUSR1);
    ASSERT_EQ(zc__signal_parse("15"), SIGTERM);
    ASSERT_EQ(zc__signal_parse("0"), -EINVAL);
    ASSERT_EQ(zc__signal_parse("65"), -EINVAL);
    ASSERT_EQ(zc__signal_parse("TERMX"), -EINVAL);
    ASSERT_EQ(zc__signal_parse(""), -EINVAL);
    ASSERT_STREQ(zc__signal_name(SIGKILL), "KILL");
    ASSERT_STREQ(zc__signal_name(SIGSEGV), "SEGV");
    ASSERT(zc__signal_name(40) == NULL);
}

static int fired[8], n_fired;

static void record(struct zc__loop *l, struct zc__timer *t)
{
    (void) l;
    fired[n_fired++] = (int) (t->deadline_us / 1000);
}

void test_timer_heap_fake_clock(void)
{
    struct zc__loop l;
    struct zc__timer t[6];
    static const int deadlines[6] = { 50, 10, 40, 30, 20, 60 };

    ASSERT_EQ(zc__loop_init(&l, NULL, NULL, 2), 0);   /* the heap must grow */
    for (int i = 0; i < 6; i++) {
        zc__timer_init(&t[i], record);
        ASSERT_EQ(zc__timer_start(&l, &t[i], (uint64_t) deadlines[i] * 1000), 0);
    }
    zc__timer_stop(&l, &t[2]);                        /* 40 never fires */
    ASSERT(!zc__timer_is_active(&t[2]));
    ASSERT_EQ(zc__timer_start(&l, &t[5], 15000), 0);  /* 60 moves to 15 */
    ASSERT_EQ(zc__loop_run_due(&l, 9999), 0);
    ASSERT_EQ(zc__loop_run_due(&l, 20000), 3);        /* 10, 15, 20 */
    ASSERT_EQ(fired[0], 10);
    ASSERT_EQ(fired[1], 15);
    ASSERT_EQ(fired[2], 20);
    ASSERT_EQ(zc__loop_run_due(&l, 1000000), 2);      /* 30, 50 */
    ASSERT_EQ(fired[3], 30);
    ASSERT_EQ(fired[4], 50);
    ASSERT_EQ(n_fired, 5);
    ASSERT_EQ(zc__loop_run_due(&l, UINT64_MAX), 0);
    zc__loop_free(&l);
}

void test_notify_get(void)
{
    char v[16];

    ASSERT(zc__notify_get("READY=1\nSTATUS=warming up", "READY", v, sizeof(v)));
    ASSERT_STREQ(v, "1");
    ASSERT(zc__notify_get("READY=1\nSTATUS=warming up", "STATUS", v, sizeof(v)));
    ASSERT_STREQ(v, "warming up");
    ASSERT(!zc__notify_get("READYX=1", "READY", v, sizeof(v)));
    ASSERT(!zc__notify_get("XREADY=1", "READY", v, sizeof(v)));
    ASSERT(!zc__notify_get("READY", "READY", v, sizeof(v)));
    ASSERT(zc__notify_get("STATUS=a very long status line", "STATUS", v, 5));
    ASSERT_STREQ(v, "a ve");
    ASSERT(!zc__notify_get("", "READY", NULL, 0));
}
