/* The control protocol's pure parts: request parsing, slot lists, scale
 * specs, socket names and places, the client's answer reader, JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "client/http.h"
#include "proto/ctlpath.h"
#include "proto/ctlreq.h"
#include "test.h"

static int parse(struct zc__ctl_req *q, const char *method, const char *path,
                 const char *k1, const char *v1, const char *k2,
                 const char *v2, char *why)
{
    struct zc__ctl_arg a[2] = { { k1, v1 }, { k2, v2 } };
    const char *allow;

    return zc__ctl_parse(q, method, path, a, k2 ? 2 : k1 ? 1 : 0, why, 256,
                         &allow);
}

void test_control_requests(void)
{
    struct zc__ctl_req q;
    char why[256];
    const char *allow;

    ASSERT_EQ(parse(&q, "GET", "/status", NULL, NULL, NULL, NULL, why), 0);
    ASSERT_EQ(q.verb, ZC__CTL_STATUS);
    ASSERT(!q.text);
    ASSERT_EQ(parse(&q, "GET", "/status", "format", "text", "color", "1", why), 0);
    ASSERT(q.text && q.color);
    ASSERT_EQ(parse(&q, "HEAD", "/status", NULL, NULL, NULL, NULL, why), 0);
    ASSERT_EQ(parse(&q, "POST", "/reload", NULL, NULL, NULL, NULL, why), 0);
    ASSERT(q.wait);
    ASSERT_EQ(parse(&q, "POST", "/reload", "wait", "0", NULL, NULL, why), 0);
    ASSERT(!q.wait);
    ASSERT_EQ(parse(&q, "POST", "/reload", "wait", "maybe", NULL, NULL, why), 400);
    ASSERT_CONTAINS(why, "wait: expected 1 or 0");
    ASSERT_EQ(parse(&q, "POST", "/reload", "wait", "0", "wait", "1", why), 400);
    ASSERT_CONTAINS(why, "given twice");
    ASSERT_EQ(parse(&q, "POST", "/reload", "to", "3", NULL, NULL, why), 400);
    ASSERT_CONTAINS(why, "/reload does not take 'to'");
    ASSERT_EQ(parse(&q, "GET", "/reload", NULL, NULL, NULL, NULL, why), 405);
    ASSERT_EQ(zc__ctl_parse(&q, "GET", "/stop", NULL, 0, why, sizeof(why),
                            &allow), 405);
    ASSERT_STREQ(allow, "POST");
    ASSERT_EQ(parse(&q, "GET", "/", NULL, NULL, NULL, NULL, why), 404);
    ASSERT_EQ(parse(&q, "GET", "/status/", NULL, NULL, NULL, NULL, why), 404);
    /* scale */
    ASSERT_EQ(parse(&q, "POST", "/scale", NULL, NULL, NULL, NULL, why), 400);
    ASSERT_EQ(parse(&q, "POST", "/scale", "to", "6", NULL, NULL, why), 0);
    ASSERT_EQ(zc__ctl_scale_target(&q, 2), 6);
    ASSERT_EQ(parse(&q, "POST", "/scale", "to", "+2", NULL, NULL, why), 0);
    ASSERT_EQ(zc__ctl_scale_target(&q, 4), 6);
    ASSERT_EQ(parse(&q, "POST", "/scale", "to", "-1", NULL, NULL, why), 0);
    ASSERT_EQ(zc__ctl_scale_target(&q, 4), 3);
    ASSERT_EQ(zc__ctl_scale_target(&q, 1), -ERANGE);
    ASSERT_EQ(parse(&q, "POST", "/scale", "to", "+4096", NULL, NULL, why), 0);
    ASSERT_EQ(zc__ctl_scale_target(&q, 1), -ERANGE);
    for (const char *bad = "0\0+0\0-0\0x\0+\0-\0 2\0004097\0" "99999999999999999999\0";
         *bad; bad += strlen(bad) + 1)
        ASSERT_EQ(parse(&q, "POST", "/scale", "to", bad, NULL, NULL, why), 400);
    /* restart and signal */
    ASSERT_EQ(parse(&q, "POST", "/restart", "slots", "2,3,7", NULL, NULL, why), 0);
    ASSERT_EQ(q.n_slots, 3);
    ASSERT(zc__ctl_has_slot(&q, 2) && zc__ctl_has_slot(&q, 7));
    ASSERT(!zc__ctl_has_slot(&q, 4) && !zc__ctl_has_slot(&q, 5000));
    for (const char *bad = "\0,\0" "1,\0,1\0" "1,,2\0" "1,1\0" "a\0" "4096\0-1\0";
         ; bad += strlen(bad) + 1) {
        ASSERT_EQ(parse(&q, "POST", "/restart", "slots", bad, NULL, NULL, why), 400);
        if (strcmp(bad, "-1") == 0)
            break;
    }
    ASSERT_EQ(parse(&q, "POST", "/restart", NULL, NULL, NULL, NULL, why), 400);
    ASSERT_EQ(parse(&q, "POST", "/signal", "signal", "USR1", NULL, NULL, why), 0);
    ASSERT_EQ(q.signal, 10);
    ASSERT_EQ(q.n_slots, 0);
    ASSERT_EQ(parse(&q, "POST", "/signal", "signal", "SIGHUP", "slots", "0", why), 0);
    ASSERT_EQ(q.signal, 1);
    ASSERT_EQ(q.n_slots, 1);
    ASSERT_EQ(parse(&q, "POST", "/signal", "signal", "0", NULL, NULL, why), 400);
    ASSERT_EQ(parse(&q, "POST", "/signal", "signal", "BOGUS", NULL, NULL, why), 400);
    ASSERT_EQ(parse(&q, "POST", "/signal", NULL, NULL, NULL, NULL, why), 400);
    /* too many arguments */
    {
        struct zc__ctl_arg many[ZC__CTL_MAX_ARGS + 1];

        for (size_t i = 0; i <= ZC__CTL_MAX_ARGS; i++)
            many[i] = (struct zc__ctl_arg) { "wait", "1" };
        ASSERT_EQ(zc__ctl_parse(&q, "POST", "/reload", many,
                                ZC__CTL_MAX_ARGS + 1, why, sizeof(why),
                                &allow), 400);
    }
    {
        uint64_t bits[ZC_MAX_WORKERS / 64] = { 0 };
        char text[64];

        bits[0] = 1u << 2;
        zc__ctl_slots_text(bits, text, sizeof(text));
        ASSERT_STREQ(text, "slot 2");
        bits[0] |= 1u << 5;
        bits[1] = 1;
        zc__ctl_slots_text(bits, text, sizeof(text));
        ASSERT_STREQ(text, "slots 2, 5, 64");
    }
}

void test_control_names_paths(void)
{
    char dir[256], path[256], name[80];
    bool made;

    ASSERT(zc__control_name_ok("shop"));
    ASSERT(zc__control_name_ok("shop-2.eu_west@x"));
    ASSERT(!zc__control_name_ok(""));
    ASSERT(!zc__control_name_ok(".shop"));
    ASSERT(!zc__control_name_ok("-shop"));
    ASSERT(!zc__control_name_ok("a/b"));
    ASSERT(!zc__control_name_ok("a b"));
    ASSERT(!zc__control_name_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
    /* The runner sets RUNTIME_DIRECTORY, as systemd would. */
    ASSERT_EQ(zc__control_dir(dir, sizeof(dir), &made), 0);
    ASSERT_STREQ(dir, zt_tmpdir());
    ASSERT(!made);
    setenv("RUNTIME_DIRECTORY", "/run/a:/run/b", 1);
    ASSERT_EQ(zc__control_dir(dir, sizeof(dir), &made), 0);
    ASSERT_STREQ(dir, "/run/a");
    unsetenv("RUNTIME_DIRECTORY");
    ASSERT_EQ(zc__control_dir(dir, sizeof(dir), &made), 0);
    ASSERT(made);
    if (geteuid() == 0)
        ASSERT_STREQ(dir, "/run/zcluster");
    ASSERT_EQ(zc__control_dir(dir, 4, &made), -ENAMETOOLONG);
    ASSERT_EQ(zc__control_path("/run/x", "shop", path, sizeof(path)), 0);
    ASSERT_STREQ(path, "/run/x/shop.sock");
    ASSERT(zc__control_name_of("shop.sock", name, sizeof(name)));
    ASSERT_STREQ(name, "shop");
    ASSERT(!zc__control_name_of(".sock", name, sizeof(name)));
    ASSERT(!zc__control_name_of("shop.sock.old", name, sizeof(name)));
    ASSERT(!zc__control_name_of("notify", name, sizeof(name)));
    /* Making the directory: as asked; a file, a world-writable directory
     * are refused; one of ours made narrower gets the bits it lacks. */
    {
        char why[256], d[300];
        struct stat st;
        mode_t was;

        snprintf(d, sizeof(d), "%s/ctl", zt_tmpdir());
        ASSERT_EQ(zc__control_dir_make(d, 0700, why, sizeof(why), &was), 0);
        ASSERT(stat(d, &st) == 0 && (st.st_mode & 0777) == 0700);
        ASSERT_EQ(was, 0);
        ASSERT_EQ(zc__control_dir_make(d, 0700, why, sizeof(why), &was), 0);
        ASSERT_EQ(zc__control_dir_make(d, 0755, why, sizeof(why), &was), 0);
        ASSERT(stat(d, &st) == 0 && (st.st_mode & 0777) == 0755);
        ASSERT_EQ(was, 0700);
        ASSERT(chmod(d, 0777) == 0);
        ASSERT_EQ(zc__control_dir_make(d, 0700, why, sizeof(why), &was), -EPERM);
        ASSERT_CONTAINS(why, "others may write in it");
        snprintf(d, sizeof(d), "%s/file", zt_tmpdir());
        zt_write_file(d, "");
        ASSERT_EQ(zc__control_dir_make(d, 0700, why, sizeof(why), &was), -ENOTDIR);
        /* A link to a directory of ours is still not ours to trust: who
         * re-points it decides where the sockets go. */
        {
            char target[320];

            snprintf(target, sizeof(target), "%s/ctl", zt_tmpdir());
            snprintf(d, sizeof(d), "%s/link", zt_tmpdir());
            ASSERT(chmod(target, 0700) == 0);
            ASSERT(symlink(target, d) == 0);
            ASSERT_EQ(zc__control_dir_make(d, 0700, why, sizeof(why), &was),
                      -ENOTDIR);
            ASSERT_CONTAINS(why, "a symbolic link");
        }
        snprintf(d, sizeof(d), "%s/grp", zt_tmpdir());
        ASSERT_EQ(zc__control_dir_make(d, 0711, why, sizeof(why), &was), 0);
        ASSERT(stat(d, &st) == 0 && (st.st_mode & 0777) == 0711);
    }
}

/* The name a fleet gets from its command: a person's name for it. */
void test_control_default_names(void)
{
    static const struct {
        const char *argv[6];
        const char *name;
    } cases[] = {
        { { "./shop", "--port", "8080" }, "shop" },
        { { "/usr/bin/node", "app.js" }, "app" },
        { { "node", "--max-old-space-size=512", "-r", "dotenv/config",
            "server.mjs" }, "server" },
        { { "node", "/srv/shop/index.js" }, "shop" },
        { { "node", "-e", "1" }, "node" },
        { { "python3", "-u", "worker.py" }, "worker" },
        { { "python3.11", "-m", "http.server", "8000" }, "http.server" },
        { { "/usr/bin/env", "PORT=1", "node", "api.cjs" }, "api" },
        { { "ruby", "app/puma.rb" }, "puma" },
        { { "java", "-jar", "/opt/billing.jar" }, "billing" },
        { { "bash", "-c", "exec x" }, "bash" },
        { { "gunicorn", "app:app" }, "gunicorn" },
        { { "sh", "my server.sh" }, "my_server" },
        { { "node", ".hidden.js" }, "_hidden" },
    };
    char name[ZC__CONTROL_NAME_MAX + 1], want[300], cwd[256];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        zc__control_default_name((char *const *) cases[i].argv, name,
                                 sizeof(name));
        ASSERT_STREQ(name, cases[i].name);
    }
    /* "node index.js" in a directory: that directory's name. */
    ASSERT(getcwd(cwd, sizeof(cwd)));
    ASSERT(chdir(zt_tmpdir()) == 0);
    {
        const char *argv[] = { "node", "index.js", NULL };

        zc__control_default_name((char *const *) argv, name, sizeof(name));
        snprintf(want, sizeof(want), "%s", strrchr(zt_tmpdir(), '/') + 1);
        ASSERT_STREQ(name, want);
    }
    ASSERT(chdir(cwd) == 0);
}

struct lines {
    char all[4096];
    int n;
};

static int gather(const char *line, size_t len, void *ud)
{
    struct lines *l = ud;

    snprintf(l->all + strlen(l->all), sizeof(l->all) - strlen(l->all),
             "[%.*s]", (int) len, line);
    l->n++;
    return 0;
}

/* The whole answer fed one byte at a time, then at once: the same. */
static int read_answer(const char *text, struct lines *l, int *status,
                       bool eof)
{
    struct zc__reader r;
    int rc = 0;

    for (int way = 0; way < 2; way++) {
        memset(l, 0, sizeof(*l));
        zc__reader_init(&r, gather, l);
        rc = 0;
        if (way == 0)
            for (size_t i = 0; text[i] && rc == 0; i++)
                rc = zc__reader_feed(&r, text + i, 1);
        else
            rc = zc__reader_feed(&r, text, strlen(text));
        if (rc == 0 && eof)
            rc = zc__reader_eof(&r);
        *status = r.status;
        zc__reader_free(&r);
    }
    return rc;
}

void test_control_answer_reader(void)
{
    struct lines l;
    int status;

    ASSERT_EQ(read_answer("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\na\nb\nc\nd",
                          &l, &status, false), 1);
    ASSERT_EQ(status, 200);
    ASSERT_STREQ(l.all, "[a][b][c][d]");
    ASSERT_EQ(read_answer("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\na\nbcd\n"
                          "trailing junk", &l, &status, false), 1);
    ASSERT_STREQ(l.all, "[a][bcd]");
    ASSERT_EQ(read_answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "4\r\n{\"a\"\r\n3;x=y\r\n:1}\r\n2\r\n\n{\r\n1\r\n}\r\n"
                          "0\r\n\r\n", &l, &status, false), 1);
    ASSERT_STREQ(l.all, "[{\"a\":1}][{}]");
    ASSERT_EQ(read_answer("HTTP/1.0 403 Forbidden\r\nConnection: close\r\n\r\n"
                          "no\n", &l, &status, true), 1);
    ASSERT_EQ(status, 403);
    ASSERT_STREQ(l.all, "[no]");
    ASSERT_EQ(read_answer("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
                          &l, &status, false), 1);
    ASSERT_EQ(l.n, 0);
    /* Not an answer, or cut off. */
    ASSERT_EQ(read_answer("SSH-2.0-OpenSSH\r\n", &l, &status, false), -EPROTO);
    ASSERT_EQ(read_answer("HTTP/1.1 99 X\r\n", &l, &status, false), -EPROTO);
    ASSERT_EQ(read_answer("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", &l,
                          &status, false), -EPROTO);
    ASSERT_EQ(read_answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
                          &l, &status, false), -EPROTO);
    ASSERT_EQ(read_answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "zz\r\n", &l, &status, false), -EPROTO);
    ASSERT_EQ(read_answer("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
                          &l, &status, true), -EPROTO);
    ASSERT_EQ(read_answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "5\r\nabc", &l, &status, true), -EPROTO);
    ASSERT_EQ(read_answer("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", &l, &status,
                          false), -EPROTO);
}

void test_control_json(void)
{
    const char *line = "{\"event\": \"outcome\", \"ok\": true, \"n\": -12.5, "
                       "\"o\": {\"a\": [1, {\"b\": \"}\"}]}, \"message\": "
                       "\"a \\\"quoted\\\" \\\\ word\\n\\u00e9\\ud800\"}";
    struct zc__buf b = { 0 };
    char out[128];

    ASSERT_EQ(zc_control_field(line, strlen(line), "event", out, sizeof(out)), 7);
    ASSERT_STREQ(out, "outcome");
    ASSERT_EQ(zc_control_field(line, strlen(line), "ok", out, sizeof(out)), 4);
    ASSERT_STREQ(out, "true");
    ASSERT_EQ(zc_control_field(line, strlen(line), "n", out, sizeof(out)), 5);
    ASSERT_STREQ(out, "-12.5");
    ASSERT(zc_control_field(line, strlen(line), "o", out, sizeof(out)) > 0);
    ASSERT_STREQ(out, "{\"a\": [1, {\"b\": \"}\"}]}");
    ASSERT(zc_control_field(line, strlen(line), "message", out, sizeof(out)) > 0);
    ASSERT_STREQ(out, "a \"quoted\" \\ word\n\xc3\xa9\xef\xbf\xbd");
    ASSERT_EQ(zc_control_field(line, strlen(line), "b", out, sizeof(out)), -ENOENT);
    ASSERT_EQ(zc_control_field(line, strlen(line), "ev", out, sizeof(out)), -ENOENT);
    /* Cut: the value is cut, its length still told. */
    ASSERT_EQ(zc_control_field(line, strlen(line), "event", out, 4), 7);
    ASSERT_STREQ(out, "out");
    ASSERT_EQ(zc_control_field("[1]", 3, "a", out, sizeof(out)), -EINVAL);
    ASSERT_EQ(zc_control_field("{\"a\": \"x", 8, "a", out, sizeof(out)), -EINVAL);
    ASSERT_EQ(zc_control_field("{\"a\" 1}", 7, "a", out, sizeof(out)), -EINVAL);
    ASSERT_EQ(zc_control_field("{}", 2, "a", out, sizeof(out)), -ENOENT);
    /* What the primary writes reads back the same. */
    zc__buf_add(&b, "{\"s\": ", 6);
    zc__buf_json(&b, "tab\there \"q\" \x01 caf\xc3\xa9 bad\xff end");
    zc__buf_add(&b, "}", 1);
    ASSERT(!b.failed);
    ASSERT_CONTAINS(b.data, "\\u0001");
    ASSERT_CONTAINS(b.data, "bad\\ufffd end");
    ASSERT(zc_control_field(b.data, b.len, "s", out, sizeof(out)) > 0);
    ASSERT_STREQ(out, "tab\there \"q\" \x01 caf\xc3\xa9 bad\xef\xbf\xbd end");
    free(b.data);
}
