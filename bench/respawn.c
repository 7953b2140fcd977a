/*
 * respawn: how long a slot is without a worker after kill -9.
 *
 *   respawn PORT ROUNDS
 *       Against a fleet of one worker on 127.0.0.1:PORT: ask the worker's
 *       pid (X-Worker-Pid), SIGKILL it, and time a request sent right after
 *       the kill. The listening socket belongs to the primary, so the
 *       connection waits in its accept queue until the replacement accepts
 *       it: the time is "kill -9 to replacement answering".
 *
 *   respawn --startup HELLO PORT ROUNDS
 *       The baseline: the same binary's own start-up, from fork+exec to
 *       its READY=1 (it binds the port itself).
 *
 * Prints one line per statistic: median, p90, max in milliseconds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One request; returns the X-Worker-Pid, 0 when refused, -1 on error. */
static long get_pid(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_port = htons((uint16_t) port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    static const char req[] =
        "GET / HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n";
    struct timeval tv = { .tv_sec = 10 };
    char buf[2048];
    size_t len = 0;
    ssize_t n;
    long pid = -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *) &a, sizeof(a)) == -1) {
        pid = errno == ECONNREFUSED ? 0 : -1;
        close(fd);
        return pid;
    }
    if (write(fd, req, sizeof(req) - 1) != (ssize_t) sizeof(req) - 1) {
        close(fd);
        return -1;
    }
    while (len < sizeof(buf) - 1 &&
           (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
        len += (size_t) n;
    buf[len] = '\0';
    close(fd);
    if (strstr(buf, "X-Worker-Pid: "))
        pid = atol(strstr(buf, "X-Worker-Pid: ") + 14);
    return pid;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}

static void report(const char *what, double *v, int n)
{
    qsort(v, (size_t) n, sizeof(*v), cmp);
    printf("%s: median %.2f ms, p90 %.2f ms, max %.2f ms (%d rounds)\n", what,
           v[n / 2], v[(n * 9) / 10 < n ? (n * 9) / 10 : n - 1], v[n - 1], n);
}

/* A datagram socket on a fresh abstract address, as NOTIFY_SOCKET. */
static int notify_socket(char *env, size_t size)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    socklen_t len = sizeof(sa_family_t);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (fd == -1 || bind(fd, (struct sockaddr *) &sa, len) == -1)
        return -1;
    len = sizeof(sa);
    getsockname(fd, (struct sockaddr *) &sa, &len);
    len -= (socklen_t) offsetof(struct sockaddr_un, sun_path);
    snprintf(env, size, "NOTIFY_SOCKET=@%.*s", (int) len - 1, sa.sun_path + 1);
    return fd;
}

/* Start-up as the primary sees it: fork+exec until READY=1 arrives, the
 * same event that makes a worker ready under zcluster. Waiting on the
 * socket (not polling the port) keeps the measurement from loading the
 * machine it measures. */
static int startup(const char *hello, int port, int rounds)
{
    double *v = calloc((size_t) rounds, sizeof(*v));
    char addr[64], env[128], buf[64];
    int nfd = notify_socket(env, sizeof(env));

    if (nfd < 0) {
        perror("notify socket");
        return 1;
    }
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    for (int i = 0; i < rounds; i++) {
        struct pollfd pfd = { .fd = nfd, .events = POLLIN };
        double t0 = now_ms();
        pid_t pid = fork();

        if (pid == 0) {
            putenv(env);
            execl(hello, hello, "-l", addr, (char *) NULL);
            _exit(127);
        }
        if (poll(&pfd, 1, 10000) != 1 || recv(nfd, buf, sizeof(buf), 0) <= 0) {
            fprintf(stderr, "startup: no READY=1 from pid %d\n", (int) pid);
            return 1;
        }
        v[i] = now_ms() - t0;
        if (get_pid(port) != pid) {
            fprintf(stderr, "startup: pid %d is not the one answering\n",
                    (int) pid);
            return 1;
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    report("the worker's own start-up, fork+exec to READY=1", v, rounds);
    free(v);
    return 0;
}

int main(int argc, char **argv)
{
    int port, rounds;
    double *v;

    if (argc == 5 && strcmp(argv[1], "--startup") == 0)
        return startup(argv[2], atoi(argv[3]), atoi(argv[4]));
    if (argc != 3) {
        fprintf(stderr, "usage: respawn PORT ROUNDS | "
                        "respawn --startup HELLO PORT ROUNDS\n");
        return 2;
    }
    port = atoi(argv[1]);
    rounds = atoi(argv[2]);
    v = calloc((size_t) rounds, sizeof(*v));
    for (int i = 0; i < rounds; i++) {
        long old = get_pid(port), now;
        double t0;

        if (old <= 0) {
            fprintf(stderr, "respawn: no worker answers on port %d\n", port);
            return 1;
        }
        if (kill((pid_t) old, SIGKILL) == -1) {
            perror("kill");
            return 1;
        }
        t0 = now_ms();
        now = get_pid(port);
        v[i] = now_ms() - t0;
        if (now <= 0 || now == old) {
            fprintf(stderr,
                    "respawn: round %d: answer from %ld after killing %ld\n", i,
                    now, old);
            return 1;
        }
    }
    report("kill -9 to replacement answering", v, rounds);
    free(v);
    return 0;
}
