/* Address parsing and binding. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto/listen.h"
#include "test.h"

static void check(const char *text, const char *formatted, const char *name,
                  bool any)
{
    struct zc__addr a;
    char buf[ZC__ADDR_TEXT_MAX];

    if (zc__addr_parse(text, &a) != 0)
        zt_fail(__FILE__, __LINE__, "'%s' did not parse", text);
    zc__addr_format((struct sockaddr *) &a.ss, a.len, buf, sizeof(buf));
    ASSERT_STREQ(buf, formatted);
    ASSERT_STREQ(a.name, name);
    ASSERT_EQ(a.any, any);
}

void test_addr_parse_good(void)
{
    check("127.0.0.1:8080", "127.0.0.1:8080", "unknown", false);
    check("0.0.0.0:0", "0.0.0.0:0", "unknown", false);
    check("localhost:80", "127.0.0.1:80", "unknown", false);
    check("[::1]:8080", "[::1]:8080", "unknown", false);
    check("[2001:db8::1]:65535", "[2001:db8::1]:65535", "unknown", false);
    check(":8080", "[::]:8080", "unknown", true);
    check("*:8080", "[::]:8080", "unknown", true);
    check("8080", "[::]:8080", "unknown", true);
    check("unix:/run/app.sock", "unix:/run/app.sock", "unknown", false);
    check("unix:@zc-test", "unix:@zc-test", "unknown", false);
    check("web=127.0.0.1:80", "127.0.0.1:80", "web", false);
    check("admin.v2=unix:/tmp/a=b", "unix:/tmp/a=b", "admin.v2", false);
    check("unix:rel/path.sock", "unix:rel/path.sock", "unknown", false);
}

void test_addr_parse_bad(void)
{
    static const char *const bad[] = {
        "", ":", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
        "127.0.0.1:+80", "127.0.0.1:8o", "127.0.0.1:000080", "1.2.3:80",
        "256.0.0.1:80", "example.com:80", "::1:80", "[::1]", "[::1]80",
        "[::1]:", "[]:80", "[::g]:80", "[::1:80", "unix:", "unix:@",
        "=127.0.0.1:80", "a b=127.0.0.1:80", "tcp://127.0.0.1:80", "99999",
        "unix:/" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    };
    struct zc__addr a;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (zc__addr_parse(bad[i], &a) != -EINVAL)
            zt_fail(__FILE__, __LINE__, "'%s' parsed, should not", bad[i]);
    ASSERT_EQ(zc__addr_parse(NULL, &a), -EINVAL);
    ASSERT_EQ(zc_address_check("nope"), -EINVAL);
    ASSERT_EQ(zc_address_check("127.0.0.1:1"), 0);
}

/* A socket file nobody listens on is replaced; a live one is "in use";
 * a plain file is never removed. */
void test_addr_listen_unix_stale(void)
{
    char path[256], spec[300];
    struct stat st;
    int fd, fd2;

    snprintf(path, sizeof(path), "%s/s.sock", zt_tmpdir());
    snprintf(spec, sizeof(spec), "unix:%s", path);
    ASSERT_EQ(zc_listen(spec, 0, &fd), 0);
    ASSERT_EQ(zc_listen(spec, 0, &fd2), -EADDRINUSE);
    close(fd);                          /* leaves a stale file behind */
    ASSERT_EQ(stat(path, &st), 0);
    ASSERT_EQ(zc_listen(spec, 0, &fd), 0);
    close(fd);
    unlink(path);
    zt_write_file(path, "not a socket");
    ASSERT_EQ(zc_listen(spec, 0, &fd), -EEXIST);
    ASSERT_EQ(stat(path, &st), 0);
    unlink(path);
    /* TCP: in use, and an address this host does not have. */
    ASSERT_EQ(zc_listen("127.0.0.1:0", 0, &fd), 0);
    {
        struct sockaddr_in in;
        socklen_t len = sizeof(in);
        char busy[64];

        ASSERT_EQ(getsockname(fd, (struct sockaddr *) &in, &len), 0);
        snprintf(busy, sizeof(busy), "127.0.0.1:%u", ntohs(in.sin_port));
        ASSERT_EQ(zc_listen(busy, 0, &fd2), -EADDRINUSE);
    }
    close(fd);
    ASSERT_EQ(zc_listen("192.0.2.1:80", 0, &fd), -EADDRNOTAVAIL);
}
