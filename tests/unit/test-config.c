/* The configuration file's text (proto/config.c): lines, errors with
 * their line, the command's words as a shell splits them, and the
 * nearest key to a typo. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/config.h"
#include "zcluster.h"
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

/* zc_config_load(): the file, then what wins over it; a list given there
 * replaces the file's; a command given there replaces the file's. */
void test_config_load_overrides(void)
{
    char path[300], why[512];
    char *over[] = { (char *) "workers=2",
                     (char *) "listen=:9000",
                     (char *) "sticky",
                     (char *) "--",
                     (char *) "./other",
                     (char *) "x y",
                     NULL };
    zc_options o;
    zc_config *c;

    snprintf(path, sizeof(path), "%s/load.conf", zt_tmpdir());
    zt_write_file(path, "workers = 4\nlisten = :8080\nlisten = :8081\n"
                        "respawn_delay = 250ms\nenv = A=1\n"
                        "command = ./shop \"--title=the shop\"\n");
    zc_options_init(&o);
    c = zc_config_load(&o, path, NULL, why, sizeof(why));
    ASSERT(c);
    ASSERT_EQ(o.workers, 4);
    ASSERT_EQ(o.n_listen, 2);
    ASSERT_EQ(o.respawn_delay_ms, 250);
    ASSERT_EQ(o.n_env, 1);
    ASSERT_STREQ(o.env[0], "A=1");
    ASSERT_STREQ(o.command[1], "--title=the shop");
    ASSERT(o.command[2] == NULL);
    ASSERT_STREQ(o.config, path);
    zc_config_free(c);

    zc_options_init(&o);
    c = zc_config_load(&o, path, over, why, sizeof(why));
    ASSERT(c);
    ASSERT_EQ(o.workers, 2);
    ASSERT_EQ(o.n_listen, 1);
    ASSERT_STREQ(o.listen[0], ":9000");
    ASSERT(o.sticky);
    ASSERT_EQ(o.n_env, 1); /* not given there: the file's */
    ASSERT_STREQ(o.command[0], "./other");
    ASSERT_STREQ(o.command[1], "x y");
    ASSERT_STREQ(o.config_overrides[0], "workers=2");
    zc_config_free(c);

    /* What is wrong there is said as the command line's. */
    over[0] = (char *) "workers=0";
    zc_options_init(&o);
    ASSERT(!zc_config_load(&o, path, over, why, sizeof(why)));
    ASSERT_CONTAINS(why, "invalid --workers '0'");
    ASSERT_CONTAINS(why, "(on the command line, over ");
}

/* zc_config_format() then zc_config_load(): the same options. */
void test_config_format_reads_back(void)
{
    const char *listen[] = { "api=127.0.0.1:0", "unix:/tmp/a b.sock" };
    const char *env[] = { "A=it's", "B=\"q\" \\ $x" };
    char *command[] = { (char *) "./shop", (char *) "", (char *) "a'b",
                        (char *) "#x", NULL };
    char path[300], why[512], *text, *again;
    zc_options o, back;
    zc_config *c;

    zc_options_init(&o);
    o.workers = 3;
    o.listen = listen;
    o.n_listen = 2;
    o.env = env;
    o.n_env = 2;
    o.command = command;
    o.max_surge = 2;
    o.sticky = true; /* as a running fleet has them: reconciled */
    o.balance = ZC_BALANCE_STICKY;
    o.backoff_factor = 1.5;
    o.umask = 027;
    text = zc_config_format(&o);
    ASSERT(text);
    ASSERT_CONTAINS(text, "workers = 3\n");
    ASSERT_CONTAINS(text, "umask = 0027\n");
    ASSERT_CONTAINS(text, "env = 'B=\"q\" \\ $x'\n");
    ASSERT_CONTAINS(text, "command = ./shop '' 'a'\\''b' '#x'\n");
    snprintf(path, sizeof(path), "%s/back.conf", zt_tmpdir());
    zt_write_file(path, text);
    zc_options_init(&back);
    c = zc_config_load(&back, path, NULL, why, sizeof(why));
    if (!c)
        zt_fail(__FILE__, __LINE__, "%s", why);
    again = zc_config_format(&back);
    ASSERT(again);
    ASSERT_STREQ(again, text);
    ASSERT_STREQ(back.env[1], env[1]);
    ASSERT_STREQ(back.command[2], "a'b");
    ASSERT_STREQ(back.command[1], "");
    free(text);
    free(again);
    zc_config_free(c);
}
