/*
 * A worker that logs as fast as it can, for bench/output.sh: LINES lines
 * of BYTES bytes (newline included) to stdout, one write(2) each, as a
 * logging library writes them, then "wrote M MiB in S s" on stderr.
 *
 *   writer LINES BYTES
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long lines = argc > 2 ? atol(argv[1]) : 0,
         bytes = argc > 2 ? atol(argv[2]) : 0;
    char *line;
    double t0;

    if (lines < 1 || bytes < 16 || bytes > 1 << 20) {
        fprintf(stderr, "usage: writer LINES BYTES\n");
        return 2;
    }
    line = malloc((size_t) bytes);
    if (!line)
        return 1;
    t0 = now_s();
    for (long i = 0; i < lines; i++) {
        int k = snprintf(line, (size_t) bytes, "request %ld served ", i);
        size_t off = 0;

        memset(line + k, 'x', (size_t) bytes - (size_t) k - 1);
        line[bytes - 1] = '\n';
        while (off < (size_t) bytes) {
            ssize_t w = write(1, line + off, (size_t) bytes - off);

            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return 1;
            off += (size_t) w;
        }
    }
    fprintf(stderr, "wrote %.1f MiB in %.3f s\n",
            (double) lines * (double) bytes / 1048576.0, now_s() - t0);
    free(line);
    return 0;
}
