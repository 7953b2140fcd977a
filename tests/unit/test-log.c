/* The logger's pattern matching and level parsing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/clean.h"
#include "base/log.h"
#include "test.h"

void test_log_glob_match(void)
{
    ASSERT(zc__log_glob_match("zc:*", "zc:primary"));
    ASSERT(zc__log_glob_match("zc:*", "zc:"));
    ASSERT(zc__log_glob_match("*", ""));
    ASSERT(zc__log_glob_match("*:loop", "zc:loop"));
    ASSERT(zc__log_glob_match("zc:?oop", "zc:loop"));
    ASSERT(zc__log_glob_match("a*b*c", "axxbyyc"));
    ASSERT(zc__log_glob_match("a*b*c", "abcbc"));
    ASSERT(!zc__log_glob_match("a*b*c", "axxbyy"));
    ASSERT(!zc__log_glob_match("zc:*", "app:db"));
    ASSERT(!zc__log_glob_match("zc:loop", "zc:loops"));
    ASSERT(!zc__log_glob_match("?", ""));
    /* A pathological pattern stays fast (no exponential backtracking). */
    ASSERT(!zc__log_glob_match("*a*a*a*a*a*a*a*a*a*a*b",
                               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

void test_log_patterns(void)
{
    ASSERT(zc__log_patterns_match("zc:*", "zc:primary"));
    ASSERT(!zc__log_patterns_match("zc:*,-zc:primary", "zc:primary"));
    ASSERT(zc__log_patterns_match("zc:*,-zc:primary", "zc:loop"));
    /* The last pattern that matches decides. */
    ASSERT(zc__log_patterns_match("-zc:primary,zc:*", "zc:primary"));
    ASSERT(zc__log_patterns_match("app:db zc:loop", "zc:loop"));
    ASSERT(!zc__log_patterns_match("", "zc:loop"));
    ASSERT(!zc__log_patterns_match(",,-,", "zc:loop"));
    ASSERT(!zc__log_patterns_match("-zc:*", "zc:loop"));

    /* And through the public predicate, as the environment sets it. */
    setenv("ZC_LOG_LEVEL", "warn", 1);
    setenv("ZC_DEBUG", "app:*,-app:noisy", 1);
    zc__log_reload();
    ASSERT(zc_log_is_enabled(ZC_LOG_ERROR, "zc:primary"));
    ASSERT(!zc_log_is_enabled(ZC_LOG_INFO, "zc:primary"));
    ASSERT(zc_log_is_enabled(ZC_LOG_DEBUG, "app:db"));
    ASSERT(zc_log_is_enabled(ZC_LOG_TRACE, "app:db"));
    ASSERT(!zc_log_is_enabled(ZC_LOG_DEBUG, "app:noisy"));
    ASSERT(!zc_log_is_enabled(ZC_LOG_DEBUG, "zc:primary"));
    unsetenv("ZC_LOG_LEVEL");
    unsetenv("ZC_DEBUG");
    zc__log_reload();
    ASSERT(zc_log_is_enabled(ZC_LOG_INFO, "zc:primary"));
    ASSERT(!zc_log_is_enabled(ZC_LOG_DEBUG, "zc:primary"));
}

void test_log_level_parse(void)
{
    ASSERT_EQ(zc__log_level_parse("error"), ZC_LOG_ERROR);
    ASSERT_EQ(zc__log_level_parse("WARN"), ZC_LOG_WARN);
    ASSERT_EQ(zc__log_level_parse("warning"), ZC_LOG_WARN);
    ASSERT_EQ(zc__log_level_parse("info"), ZC_LOG_INFO);
    ASSERT_EQ(zc__log_level_parse("debug"), ZC_LOG_DEBUG);
    ASSERT_EQ(zc__log_level_parse("trace"), ZC_LOG_TRACE);
    ASSERT_EQ(zc__log_level_parse("3"), ZC_LOG_DEBUG);
    ASSERT_EQ(zc__log_level_parse("verbose"), -EINVAL);
    ASSERT_EQ(zc__log_level_parse("5"), -EINVAL);
    ASSERT_EQ(zc__log_level_parse(""), -EINVAL);
}

/* Logs an error, as a test of a refusal does; fails only when asked to
 * (ZT_FAIL_ON_PURPOSE), for runner_shows_logs_of_failures below. */
void test_runner_logs_on_purpose(void)
{
    zc_log(ZC_LOG_ERROR, "zc:test", "an error this test expects");
    if (getenv("ZT_FAIL_ON_PURPOSE"))
        zt_fail(__FILE__, __LINE__, "failing on purpose");
}

/* What a passing test logs stays with it; a failing test's log is shown,
 * with why it failed. */
void test_runner_shows_logs_of_failures(void)
{
    char *argv[] = { (char *) zt_self(), (char *) "runner_logs_on_purpose", NULL };
    char *fail_env[] = { (char *) "ZT_FAIL_ON_PURPOSE=1", NULL };
    struct zt_proc *p = zt_start(argv, NULL);

    ASSERT_EQ(zt_exit_code(p, 10000), 0);
    zt_pump(p, 100);
    ASSERT_CONTAINS(p->log, "ok 1 - runner_logs_on_purpose");
    ASSERT(!strstr(p->log, "an error this test expects"));
    zt_proc_free(p);
    p = zt_start(argv, fail_env);
    ASSERT_EQ(zt_exit_code(p, 10000), 1);
    zt_pump(p, 100);
    ASSERT_CONTAINS(p->log, "error zc:test: an error this test expects");
    ASSERT_CONTAINS(p->log, "failing on purpose");
    ASSERT_CONTAINS(p->log, "not ok 1 - runner_logs_on_purpose");
    zt_proc_free(p);
}

/* What a worker supplies is made safe for a log and a terminal: printable
 * UTF-8 kept, every other byte as \xHH, never an escape cut in two. */
void test_log_text_clean(void)
{
    char out[64];

    ASSERT_EQ(zc__clean(out, sizeof(out), "ok caf\xc3\xa9 \xe2\x9c\x93", 12), 12);
    ASSERT_STREQ(out, "ok caf\xc3\xa9 \xe2\x9c\x93");
    zc__clean(out, sizeof(out), "\x1b]0;t\x07\x7f", 7);
    ASSERT_STREQ(out, "\\x1b]0;t\\x07\\x7f");
    zc__clean(out, sizeof(out), "\xc2\x9b" "a\xff\xc3(\xed\xa0\x80", 9);
    ASSERT_STREQ(out, "\\xc2\\x9ba\\xff\\xc3(\\xed\\xa0\\x80");
    ASSERT_EQ(zc__clean(out, 6, "ab\x1b" "cd", 5), 2);
    ASSERT_STREQ(out, "ab");
    ASSERT_EQ(zc__clean(out, 1, "abc", 3), 0);
}
