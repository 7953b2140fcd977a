/* The configuration file's text (proto/config.c): lines, errors with
 * their line, the command's words as a shell splits them, and the
 * nearest key to a typo. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/config.h"
#include "test.h"

void test_config_lines(void)
{
    static const char text[] = "# a fleet\n"
                               "\n"
                               "workers = 4\n"
                               "  listen=:8080   \r\n"
                               "\tmax_surge = 2\n"
                               "command = ./shop --name 'my shop'\n"
                               "env = A=b=c\n"
                               "empty =\n";
    struct zc__conf c;
    unsigned line;
    char why[200];

    ASSERT_EQ(zc__conf_parse(&c, text, sizeof(text) - 1, &line, why,
                             sizeof(why)),
              0);
    ASSERT_EQ(c.n, 6);
    ASSERT_STREQ(c.e[0].key, "workers");
    ASSERT_STREQ(c.e[0].value, "4");
    ASSERT_EQ(c.e[0].line, 3);
    ASSERT_STREQ(c.e[1].key, "listen");
    ASSERT_STREQ(c.e[1].value, ":8080");
    ASSERT_STREQ(c.e[2].key, "max-surge");
    ASSERT_STREQ(c.e[3].value, "./shop --name 'my shop'");
    ASSERT_STREQ(c.e[4].value, "A=b=c");
    ASSERT_STREQ(c.e[5].value, "");
    ASSERT_EQ(c.e[5].line, 8);
    zc__conf_free(&c);
}

void test_config_errors(void)
{
    static const struct {
        const char *text;
        size_t len;
        unsigned line;
        const char *why;
    } bad[] = {
        { "workers = 4\nworkers 4\n", 0, 2, "expected 'key = value'" },
        { "= 4\n", 0, 1, "expected 'key = value'" },
        { "Workers = 4\n", 0, 1, "not 'Workers = 4'" },
        { "a = 1\n\001\n", 0, 2, "a control byte (0x01)" },
        { "a = 1\nb = \xff\n", 0, 2, "not valid UTF-8" },
        { "a = b\0c\n", 8, 1, "a control byte (0x00)" },
    };
    struct zc__conf c;
    unsigned line;
    char why[200], *big;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t len = bad[i].len ? bad[i].len : strlen(bad[i].text);

        ASSERT_EQ(zc__conf_parse(&c, bad[i].text, len, &line, why, sizeof(why)),
                  -EINVAL);
        ASSERT_EQ(line, bad[i].line);
        ASSERT_CONTAINS(why, bad[i].why);
    }
    /* A line of 1 MiB, and a file larger than 1 MiB. */
    big = malloc(ZC__CONF_MAX_BYTES + 2);
    ASSERT(big);
    memset(big, 'a', ZC__CONF_MAX_BYTES + 1);
    memcpy(big, "a = ", 4);
    ASSERT_EQ(zc__conf_parse(&c, big, ZC__CONF_MAX_BYTES, &line, why,
                             sizeof(why)),
              -EINVAL);
    ASSERT_EQ(line, 1);
    ASSERT_CONTAINS(why, "a line longer than 8192 bytes");
    ASSERT_EQ(zc__conf_parse(&c, big, ZC__CONF_MAX_BYTES + 1, &line, why,
                             sizeof(why)),
              -EINVAL);
    ASSERT_EQ(line, 0);
    ASSERT_CONTAINS(why, "larger than 1024 KiB");
    free(big);
    /* An empty file is a file with nothing in it. */
    ASSERT_EQ(zc__conf_parse(&c, "", 0, &line, why, sizeof(why)), 0);
    ASSERT_EQ(c.n, 0);
    zc__conf_free(&c);
}

void test_config_words(void)
{
    static const struct {
        const char *in;
        int n;
        const char *words[5];
    } good[] = {
        { "./shop --port 8080", 3, { "./shop", "--port", "8080" } },
        { "  a\t b  ", 2, { "a", "b" } },
        { "echo 'a b' \"c d\"", 3, { "echo", "a b", "c d" } },
        { "x 'it''s' \"say \\\"hi\\\"\"", 3, { "x", "its", "say \"hi\"" } },
        { "a\\ b c", 2, { "a b", "c" } },
        { "p \"\\n\\\\\" ''", 3, { "p", "\\n\\", "" } },
        { "p '$HOME' \"\\$x\"", 3, { "p", "$HOME", "$x" } },
    };
    static const char *const bad[] = { "", "   ", "a 'b", "a \"b", "a \\" };
    char why[200], **argv;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ASSERT_EQ(zc__conf_words(good[i].in, &argv, why, sizeof(why)),
                  good[i].n);
        for (int k = 0; k < good[i].n; k++)
            ASSERT_STREQ(argv[k], good[i].words[k]);
        ASSERT(argv[good[i].n] == NULL);
        free(argv);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ASSERT_EQ(zc__conf_words(bad[i], &argv, why, sizeof(why)), -EINVAL);
    ASSERT_EQ(zc__conf_words("   ", &argv, why, sizeof(why)), -EINVAL);
    ASSERT_CONTAINS(why, "no command");
    ASSERT_EQ(zc__conf_words("a 'b", &argv, why, sizeof(why)), -EINVAL);
    ASSERT_CONTAINS(why, "' that is not closed");
}

void test_config_nearest(void)
{
    static const char *const names[] = { "workers", "listen",  "max-surge",
                                         "metrics", "command", "env" };
    const size_t n = sizeof(names) / sizeof(names[0]);

    ASSERT_STREQ(zc__conf_nearest("wokers", names, n), "workers");
    ASSERT_STREQ(zc__conf_nearest("lisen", names, n), "listen");
    ASSERT_STREQ(zc__conf_nearest("max-surg", names, n), "max-surge");
    ASSERT_STREQ(zc__conf_nearest("envs", names, n), "env");
    ASSERT(zc__conf_nearest("balance", names, n) == NULL);
    ASSERT(zc__conf_nearest("", names, n) == NULL);
}
