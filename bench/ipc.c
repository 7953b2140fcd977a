/*
 * bench/ipc: zcluster's typed messages between a primary and one worker,
 * the same three measurements as bench/ipc-node.js makes with Node's
 * cluster (worker.send / process.send):
 *
 *   ipc w2p COUNT   worker -> primary, 64-byte payloads, messages/s
 *   ipc p2w COUNT   primary -> worker, 64-byte payloads, messages/s
 *   ipc rtt COUNT   worker -> primary -> worker round trips: p50, p99 (us)
 *
 * Flow control: worker -> primary uses the library's own (a full queue is
 * -ENOBUFS: wait for the fd, dispatch, retry). Primary -> worker uses a
 * window of WINDOW messages with an ack every ACK_EVERY, exactly as the
 * Node script does, since the primary's queue is bounded too.
 *
 * One result line on stdout: "zcluster w2p 1234567 msgs/s".
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zcluster.h"

#define WINDOW 8192
#define ACK_EVERY 4096

static const char *mode;
static unsigned long count;
static char payload[64];

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* -- primary --------------------------------------------------------------- */

static zc_primary *prim;
static uint64_t worker_id, t_start;
static unsigned long got, sent;

static int p_start(zc_msg *m, void *u)
{
    (void) u;
    worker_id = m->worker_id;
    t_start = now_ns();
    got = 0;
    if (strcmp(mode, "p2w") == 0)
        for (; sent < WINDOW && sent < count; sent++)
            zc_primary_send(prim, worker_id, "m", payload, sizeof(payload),
                            NULL, 0);
    return 0;
}

static int p_m(zc_msg *m, void *u)
{
    (void) m;
    (void) u;
    if (++got == count) {
        double s = (double) (now_ns() - t_start) / 1e9;

        printf("zcluster w2p %.0f msgs/s\n", (double) count / s);
        fflush(stdout);
        kill(getpid(), SIGTERM);
    }
    return 0;
}

static int p_ack(zc_msg *m, void *u)
{
    (void) m;
    (void) u;
    for (unsigned long i = 0; i < ACK_EVERY && sent < count; i++, sent++)
        zc_primary_send(prim, worker_id, "m", payload, sizeof(payload), NULL,
                        0);
    return 0;
}

static int p_done(zc_msg *m, void *u)
{
    double s = (double) (now_ns() - t_start) / 1e9;

    (void) m;
    (void) u;
    printf("zcluster p2w %.0f msgs/s\n", (double) count / s);
    fflush(stdout);
    kill(getpid(), SIGTERM);
    return 0;
}

static int p_ping(zc_msg *m, void *u)
{
    (void) u;
    return zc_primary_send(prim, m->worker_id, "pong", m->data, m->len, NULL,
                           0);
}

static int p_result(zc_msg *m, void *u)
{
    (void) u;
    printf("zcluster rtt %.*s\n", (int) m->len, (const char *) m->data);
    fflush(stdout);
    kill(getpid(), SIGTERM);
    return 0;
}

static int primary_init(zc_primary *p, void *arg)
{
    (void) arg;
    prim = p;
    zc_primary_on(p, "start", p_start, NULL);
    zc_primary_on(p, "m", p_m, NULL);
    zc_primary_on(p, "ack", p_ack, NULL);
    zc_primary_on(p, "done", p_done, NULL);
    zc_primary_on(p, "ping", p_ping, NULL);
    zc_primary_on(p, "result", p_result, NULL);
    return 0;
}

/* -- worker ---------------------------------------------------------------- */

static zc_worker *w;
static unsigned long w_got, rtt_done;
static uint64_t *rtts;

static void send_retrying(const char *type, const void *data, size_t len)
{
    while (zc_worker_send(w, type, data, len, NULL, 0) == -ENOBUFS) {
        struct pollfd pf = { .fd = zc_worker_fd(w), .events = POLLIN };

        (void) poll(&pf, 1, 1000);
        (void) zc_worker_dispatch(w);
    }
}

static int w_m(zc_msg *m, void *u)
{
    (void) m;
    (void) u;
    if (++w_got == count)
        send_retrying("done", NULL, 0);
    else if (w_got % ACK_EVERY == 0)
        send_retrying("ack", NULL, 0);
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

    return x < y ? -1 : x > y;
}

static int w_pong(zc_msg *m, void *u)
{
    uint64_t sent_ns, t = now_ns();
    char text[96];

    (void) u;
    memcpy(&sent_ns, m->data, sizeof(sent_ns));
    rtts[rtt_done++] = t - sent_ns;
    if (rtt_done < count) {
        memcpy(payload, &t, sizeof(t));
        send_retrying("ping", payload, sizeof(payload));
        return 0;
    }
    qsort(rtts, count, sizeof(*rtts), cmp_u64);
    snprintf(text, sizeof(text), "p50 %.1f us p99 %.1f us",
             (double) rtts[count / 2] / 1e3,
             (double) rtts[count * 99 / 100] / 1e3);
    send_retrying("result", text, strlen(text));
    return 0;
}

static int worker(int argc, char **argv, void *arg)
{
    (void) argc;
    (void) argv;
    (void) arg;
    if (zc_worker_new(&w, ZC_WORKER_SIGNALS) < 0)
        return 1;
    zc_worker_on(w, "m", w_m, NULL);
    zc_worker_on(w, "pong", w_pong, NULL);
    send_retrying("start", NULL, 0);
    if (strcmp(mode, "w2p") == 0) {
        for (unsigned long i = 0; i < count; i++)
            send_retrying("m", payload, sizeof(payload));
    } else if (strcmp(mode, "rtt") == 0) {
        uint64_t t = now_ns();

        rtts = calloc(count, sizeof(*rtts));
        memcpy(payload, &t, sizeof(t));
        send_retrying("ping", payload, sizeof(payload));
    }
    zc_worker_run(w);
    zc_worker_free(w);
    return 0;
}

int main(int argc, char **argv)
{
    zc_options o;

    if (argc < 3) {
        fprintf(stderr, "usage: ipc w2p|p2w|rtt COUNT\n");
        return 2;
    }
    mode = argv[1];
    count = strtoul(argv[2], NULL, 10);
    memset(payload, 'x', sizeof(payload));
    zc_options_init(&o);
    o.workers = 1;
    o.ready = ZC_READY_IMMEDIATE;
    o.primary_init = primary_init;
    return zc_cluster_run(argc, argv, worker, NULL, &o);
}
