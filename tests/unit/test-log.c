/* The logger's pattern matching and level parsing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
