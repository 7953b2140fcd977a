/*
 * The floor under any IPC round trip on this machine: two processes
 * bouncing 64 bytes over a blocking AF_UNIX socketpair, no framing, no
 * event loop. bench/ipc.sh prints it beside zcluster and Node.
 *
 *   pingpong COUNT      -> "floor rtt p50 X us p99 Y us"
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long now_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    long x = *(const long *) a, y = *(const long *) b;

    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 50000, sv[2];
    long *rtt = calloc((size_t) n, sizeof(*rtt));
    char buf[64] = { 0 };

    if (n <= 0 || !rtt || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
        return 1;
    if (fork() == 0) {
        close(sv[0]);
        while (read(sv[1], buf, sizeof(buf)) > 0)
            if (write(sv[1], buf, sizeof(buf)) != sizeof(buf))
                break;
        _exit(0);
    }
    close(sv[1]);
    for (int i = 0; i < n; i++) {
        long t = now_ns();

        if (write(sv[0], buf, sizeof(buf)) != sizeof(buf) ||
            read(sv[0], buf, sizeof(buf)) != sizeof(buf))
            return 1;
        rtt[i] = now_ns() - t;
    }
    close(sv[0]);
    wait(NULL);
    qsort(rtt, (size_t) n, sizeof(*rtt), cmp);
    printf("floor rtt p50 %.1f us p99 %.1f us\n", rtt[n / 2] / 1e3,
           rtt[(long) n * 99 / 100] / 1e3);
    return 0;
}
