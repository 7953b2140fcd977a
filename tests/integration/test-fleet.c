/* A fleet serving: every worker on the one port, what a worker inherits,
 * a replacement after kill -9, library mode, hello's input handling. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

static void term_and_expect_clean_exit(struct zt_proc *p, int n, const pid_t *pids)
{
    ASSERT(kill(p->pid, SIGTERM) == 0);
    ASSERT_EQ(zt_exit_code(p, 10000), 0);
    for (int i = 0; i < n; i++)
        ASSERT(zt_wait_gone(pids[i], 2000));
    zt_reap_all(2000);
    zt_proc_free(p);
}

/* With every other worker stopped, the one left must answer: that shows
 * each worker really serves the shared socket. */
static void only_this_one_answers(int port, int n, const pid_t *pids, int who)
{
    struct zt_resp r;

    for (int i = 0; i < n; i++)
        if (i != who)
            zt_stop(pids[i]);
    ASSERT_EQ(zt_http_get(port, NULL, &r), 200);
    ASSERT_EQ(r.pid, pids[who]);
    ASSERT_EQ(r.slot, who);
    for (int i = 0; i < n; i++)
        if (i != who)
            ASSERT(kill(pids[i], SIGCONT) == 0);
}

void test_fleet_serves_one_port(void)
{
    char sock[300], unix_arg[320];
    pid_t pids[3];
    int port;
    struct zt_proc *p;
    struct zt_resp r;

    snprintf(sock, sizeof(sock), "%s/hello.sock", zt_tmpdir());
    snprintf(unix_arg, sizeof(unix_arg), "unix:%s", sock);
    p = zt_fleet(3, pids, &port, "-w", "3", "-l", "127.0.0.1:0", "-l", unix_arg,
                 "--", zt_hello(), NULL);
    ASSERT(port > 0);
    for (int i = 0; i < 3; i++)
        only_this_one_answers(port, 3, pids, i);
    /* The unix socket is served too, by one of the same workers. */
    ASSERT_EQ(zt_http_get(0, sock, &r), 200);
    ASSERT(r.pid == pids[0] || r.pid == pids[1] || r.pid == pids[2]);
    /* A burst of requests: none fails. */
    for (int i = 0; i < 200; i++)
        ASSERT_EQ(zt_http_get(port, NULL, &r), 200);
    term_and_expect_clean_exit(p, 3, pids);
    /* The primary removes the socket file it created. */
    ASSERT(access(sock, F_OK) == -1);
}

static char *report_of(int slot)
{
    char path[400];

    snprintf(path, sizeof(path), "%s/env.%d", zt_tmpdir(), slot);
    return zt_read_file(path);
}

void test_worker_sees_protocol(void)
{
    char sock[300], unix_arg[320], want[400];
    char *env[] = { (char *) "LISTEN_FDS=9", (char *) "LISTEN_PID=1", (char *) "NOTIFY_SOCKET=/nowhere",
                    (char *) "ZC_WORKER_SLOT=42", (char *) "ZC_IPC_FD=9", (char *) "ZC_TEST_MARK=kept", NULL };
    char *argv[] = { (char *) zt_zcluster(), (char *) "-w", (char *) "2", (char *) "-l", (char *) "web=127.0.0.1:0",
                     (char *) "-l", unix_arg, (char *) "--ready", (char *) "notify", (char *) "--", (char *) zt_self(),
                     (char *) "--helper", (char *) "env", (char *) zt_tmpdir(), NULL };
    unsigned long ids[2];
    pid_t pids[2];
    struct zt_proc *p;
    int stray, port;

    snprintf(sock, sizeof(sock), "%s/w.sock", zt_tmpdir());
    snprintf(unix_arg, sizeof(unix_arg), "unix:%s", sock);
    /* An fd zcluster inherits without close-on-exec must not reach workers. */
    stray = open("/dev/null", O_RDONLY);
    ASSERT(stray >= 3);
    p = zt_start(argv, env);
    close(stray);
    port = zt_parse_port(zt_wait_line(p, "listening on 127.0.0.1:", 5000));
    for (int i = 0; i < 2; i++) {
        int slot;
        pid_t pid;

        ASSERT(zt_parse_worker(zt_wait_line(p, ") started", 5000), &ids[i], &slot, &pid));
        pids[slot] = pid;
    }
    zt_wait_line(p, "all 2 workers ready", 5000);
    for (int slot = 0; slot < 2; slot++) {
        char *t = report_of(slot);

        ASSERT(t);
        ASSERT_CONTAINS(t, "LISTEN_FDS=2\n");
        snprintf(want, sizeof(want), "LISTEN_PID=%d\n", (int) pids[slot]);
        ASSERT_CONTAINS(t, want);
        ASSERT_CONTAINS(t, "LISTEN_FDNAMES=web:unknown\n");
        ASSERT_CONTAINS(t, "NOTIFY_SOCKET=@");
        snprintf(want, sizeof(want), "ZC_WORKER_SLOT=%d\n", slot);
        ASSERT_CONTAINS(t, want);
        ASSERT_CONTAINS(t, "ZC_GENERATION=1\n");
        ASSERT_CONTAINS(t, "ZC_IPC_FD=5\n");
        ASSERT_CONTAINS(t, "ZC_IPC_MAX_MESSAGE=16777216\n");
        ASSERT_CONTAINS(t, "ZC_TEST_MARK=kept\n");
        ASSERT(strstr(t, "ZC_WORKER_ID=1\n") || strstr(t, "ZC_WORKER_ID=2\n"));
        /* Exactly stdio, the two listeners and the IPC link. */
        ASSERT_CONTAINS(t, "fds=0,1,2,3,4,5,\n");
        ASSERT_CONTAINS(t, "fd5=unix:\n");  /* an unnamed socketpair end */
        ASSERT_CONTAINS(t, "fd0=/dev/null\n");
        snprintf(want, sizeof(want), "fd3=127.0.0.1:%d listening\n", port);
        ASSERT_CONTAINS(t, want);
        snprintf(want, sizeof(want), "fd4=unix:%s listening\n", sock);
        ASSERT_CONTAINS(t, want);
        /* Nothing blocked or ignored is inherited from the primary, for
         * signals 1-31 (bits 0-30). 32 and 33 belong to glibc, which
         * refuses to change them and sets them up in every process. */
        ASSERT_CONTAINS(t, "SigBlk:\t0000000000000000\n");
        ASSERT(strstr(t, "SigIgn:\t"));
        ASSERT_EQ(strtoull(strstr(t, "SigIgn:\t") + 8, NULL, 16) & 0x7fffffff, 0);
        /* Its own process group, so killpg reaches its children. */
        snprintf(want, sizeof(want), "pgid=%d\n", (int) pids[slot]);
        ASSERT_CONTAINS(t, want);
        free(t);
    }
    ASSERT(ids[0] != ids[1]);
    term_and_expect_clean_exit(p, 2, pids);
}

void test_kill9_replacement_serves(void)
{
    pid_t pids[2], old;
    unsigned long id;
    int port, slot;
    struct zt_proc *p;
    const char *l;

    p = zt_fleet(2, pids, &port, "-w", "2", "-l", "127.0.0.1:0",
                 "--respawn-delay", "0", "--", zt_hello(), NULL);
    old = pids[0];
    ASSERT(kill(old, SIGKILL) == 0);
    l = zt_wait_line(p, "was killed by signal KILL", 5000);
    ASSERT_CONTAINS(l, "(slot 0,");
    ASSERT_CONTAINS(l, "restarting in 0 ms");
    l = zt_wait_line(p, "ready in", 5000);
    ASSERT(zt_parse_worker(l, &id, &slot, &pids[0]));
    ASSERT_EQ(slot, 0);
    ASSERT_EQ(id, 3);               /* ids only grow */
    ASSERT(pids[0] != old);
    only_this_one_answers(port, 2, pids, 0);
    /* Slot 1 was never touched. */
    ASSERT_EQ(zt_count(p, "(slot 1, pid"), 2);  /* started + ready */
    ASSERT(zt_alive(pids[1]));
    term_and_expect_clean_exit(p, 2, pids);
}

void test_library_mode(void)
{
    char bin[300], next[300], exe[64];
    char *argv[] = { bin, (char *) "--cluster", (char *) "2", (char *) "-l", (char *) "127.0.0.1:0", NULL };
    pid_t pids[2];
    struct stat first, st;
    unsigned long id;
    int port, slot;
    struct zt_proc *p;

    /* Run a copy, so the test can put a new binary at its path. */
    snprintf(bin, sizeof(bin), "%s/hello", zt_tmpdir());
    snprintf(next, sizeof(next), "%s/hello.new", zt_tmpdir());
    {
        char cmd[700];

        snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && cp '%s' '%s'", zt_hello(),
                 bin, zt_hello(), next);
        ASSERT(system(cmd) == 0);
    }
    ASSERT(stat(bin, &first) == 0);
    p = zt_start(argv, NULL);
    port = zt_parse_port(zt_wait_line(p, "listening on 127.0.0.1:", 5000));
    for (int i = 0; i < 2; i++) {
        pid_t pid;

        ASSERT(zt_parse_worker(zt_wait_line(p, ") started", 5000), &id, &slot, &pid));
        pids[slot] = pid;
    }
    zt_wait_line(p, "all 2 workers ready", 5000);
    /* Each worker is the same program, re-executed. */
    for (int i = 0; i < 2; i++) {
        snprintf(exe, sizeof(exe), "/proc/%d/exe", (int) pids[i]);
        ASSERT(stat(exe, &st) == 0);
        ASSERT_EQ(st.st_ino, first.st_ino);
    }
    only_this_one_answers(port, 2, pids, 1);
    /* Deploy: a new binary at the same path; the next worker runs it. */
    ASSERT(rename(next, bin) == 0);
    ASSERT(kill(pids[0], SIGKILL) == 0);
    zt_wait_line(p, "was killed by signal KILL", 5000);
    ASSERT(zt_parse_worker(zt_wait_line(p, ") started", 5000), &id, &slot, &pids[0]));
    ASSERT_EQ(slot, 0);
    snprintf(exe, sizeof(exe), "/proc/%d/exe", (int) pids[0]);
    ASSERT(stat(exe, &st) == 0);
    ASSERT(st.st_ino != first.st_ino);
    zt_wait_line(p, "ready in", 5000);
    only_this_one_answers(port, 2, pids, 0);
    term_and_expect_clean_exit(p, 2, pids);
}

static int raw_exchange(int port, const char *req, size_t len, char *out, size_t size)
{
    int fd = zt_http_connect(port);
    size_t got = 0;

    ASSERT(fd >= 0);
    ASSERT(send(fd, req, len, MSG_NOSIGNAL) == (ssize_t) len);
    for (;;) {
        ssize_t n = recv(fd, out + got, size - 1 - got, 0);

        if (n <= 0)
            break;
        got += (size_t) n;
    }
    out[got] = '\0';
    close(fd);
    return (int) got;
}

void test_hello_bad_requests(void)
{
    static char big[12000], out[8192];
    pid_t pids[1];
    int port;
    struct zt_proc *p;
    struct zt_resp r;

    p = zt_fleet(1, pids, &port, "-w", "1", "-l", "127.0.0.1:0", "--",
                 zt_hello(), NULL);
    raw_exchange(port, "BLAH\r\n\r\n", 8, out, sizeof(out));
    ASSERT_CONTAINS(out, "HTTP/1.1 400 Bad Request");
    memset(big, 'a', sizeof(big));
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    raw_exchange(port, big, sizeof(big), out, sizeof(out));
    ASSERT_CONTAINS(out, "HTTP/1.1 431");
    {
        static const char chunked[] = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
        static const char badlen[] = "POST / HTTP/1.1\r\nContent-Length: -3\r\n\r\n";
        static const char huge[] = "POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n";
        static const char pipelined[] =
            "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
            "POST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
            "HEAD /c HTTP/1.1\r\n\r\n"
            "GET /d HTTP/1.0\r\n\r\n";

        raw_exchange(port, chunked, sizeof(chunked) - 1, out, sizeof(out));
        ASSERT_CONTAINS(out, "HTTP/1.1 501");
        raw_exchange(port, badlen, sizeof(badlen) - 1, out, sizeof(out));
        ASSERT_CONTAINS(out, "HTTP/1.1 400");
        raw_exchange(port, huge, sizeof(huge) - 1, out, sizeof(out));
        ASSERT_CONTAINS(out, "HTTP/1.1 413");
        /* Four pipelined requests, a body skipped, HEAD without a body,
         * and HTTP/1.0 closing the connection at the end. */
        raw_exchange(port, pipelined, sizeof(pipelined) - 1, out, sizeof(out));
        int n = 0;
        for (const char *s = out; (s = strstr(s, "HTTP/1.1 200")); s++)
            n++;
        ASSERT_EQ(n, 4);
        ASSERT_CONTAINS(out, "Connection: close");
    }
    /* A client that goes away mid-request. */
    {
        int fd = zt_http_connect(port);

        ASSERT(send(fd, "GET / HTT", 9, MSG_NOSIGNAL) == 9);
        close(fd);
    }
    /* The worker is the same process and still serves. */
    ASSERT_EQ(zt_http_get(port, NULL, &r), 200);
    ASSERT_EQ(r.pid, pids[0]);
    ASSERT_EQ(zt_count(p, ") started"), 1);
    term_and_expect_clean_exit(p, 1, pids);
}

/* systemd socket-activates zcluster itself: it adopts the sockets it was
 * given (LISTEN_PID is its own) and hands them to the workers. */
void test_socket_activated_primary(void)
{
    char *env[] = { (char *) "LISTEN_FDS=1", (char *) "LISTEN_PID=self",
                    (char *) "LISTEN_FDNAMES=web", NULL };
    char *argv[8] = { (char *) zt_zcluster(), (char *) "-w", (char *) "2", (char *) "--",
                      (char *) zt_hello(), NULL };
    char want[96];
    int fd, port;
    pid_t pids[2];
    struct zt_proc *p;

    ASSERT_EQ(zc_listen("127.0.0.1:0", 0, &fd), 0);
    {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);

        ASSERT(getsockname(fd, (struct sockaddr *) &ss, &len) == 0);
        port = ntohs(((struct sockaddr_in *) &ss)->sin_port);
    }
    p = zt_start_fd3(argv, env, fd);
    snprintf(want, sizeof(want), "listening on 127.0.0.1:%d (fd 3 in workers, "
             "name web, from LISTEN_FDS)", port);
    zt_wait_line(p, want, 5000);
    for (int i = 0; i < 2; i++) {
        unsigned long id;
        int slot;
        pid_t pid;

        ASSERT(zt_parse_worker(zt_wait_line(p, ") started", 5000), &id, &slot, &pid));
        pids[slot] = pid;
    }
    zt_wait_line(p, "all 2 workers ready", 5000);
    only_this_one_answers(port, 2, pids, 0);
    only_this_one_answers(port, 2, pids, 1);
    term_and_expect_clean_exit(p, 2, pids);
    /* Our socket still works: zcluster only closed its own copy. */
    {
        int c = zt_http_connect(port), a;

        ASSERT(c >= 0);
        a = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        ASSERT(a >= 0);
        close(a);
        close(c);
    }
    close(fd);
    /* A LISTEN_PID that is not zcluster's is not for it: nothing adopted. */
    env[1] = (char *) "LISTEN_PID=1";
    argv[2] = (char *) "1";
    argv[4] = (char *) zt_self();
    argv[5] = (char *) "--helper";
    argv[6] = (char *) "never_ready";
    argv[7] = NULL;
    p = zt_start_fd3(argv, env, -1);
    zt_wait_line(p, ") started", 5000);
    ASSERT(!strstr(p->log, "listening on"));
    kill(p->pid, SIGTERM);
    ASSERT_EQ(zt_exit_code(p, 5000), 0);
    zt_reap_all(2000);
    zt_proc_free(p);
}

static int connect6(int port)
{
    struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t) port),
                              .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ASSERT(fd >= 0);
    ASSERT(connect(fd, (struct sockaddr *) &a, sizeof(a)) == 0);
    return fd;
}

/* "[::1]:PORT" serves over IPv6; ":PORT" over both IPv4 and IPv6. */
void test_ipv6_and_all_interfaces(void)
{
    struct zt_resp r;
    struct zt_proc *p;
    int port6, port_any, fd;
    const char *l;
    pid_t pids[1];

    fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || access("/proc/net/if_inet6", F_OK) != 0)
        zt_skip("no IPv6 on this machine");
    close(fd);
    p = zt_zc("-w", "1", "-l", "[::1]:0", "-l", ":0", "--", zt_hello(), NULL);
    l = zt_wait_line(p, "listening on [::1]:", 5000);
    port6 = zt_parse_port(l);
    l = zt_wait_line(p, "listening on [::]:", 5000);
    port_any = zt_parse_port(l);
    {
        unsigned long id;
        int slot;

        ASSERT(zt_parse_worker(zt_wait_line(p, ") started", 5000), &id, &slot, &pids[0]));
    }
    zt_wait_line(p, "1 worker ready", 5000);
    fd = connect6(port6);
    ASSERT_EQ(zt_http_request(fd, &r), 200);
    ASSERT_EQ(r.pid, pids[0]);
    close(fd);
    fd = connect6(port_any);
    ASSERT_EQ(zt_http_request(fd, &r), 200);
    close(fd);
    ASSERT_EQ(zt_http_get(port_any, NULL, &r), 200);    /* IPv4 too */
    term_and_expect_clean_exit(p, 1, pids);
}
