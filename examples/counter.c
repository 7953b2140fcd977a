/*
 * zcluster-counter: typed messages and the built-in loop, in one small
 * program that is its own primary (library mode).
 *
 *   zcluster-counter -w 3 -l 127.0.0.1:8081
 *   nc 127.0.0.1 8081         -> "worker 2 (slot 1): visit 5 of the fleet"
 *
 * Each worker accepts connections with zc_worker_run() (no loop of its
 * own). For every connection it sends "hit" to the primary; the primary
 * counts the fleet's visits and answers that worker alone with "count N";
 * the worker writes the line to the client it kept waiting. The primary
 * also broadcasts "total N" to everyone every 100 visits, and logs worker
 * events as Node's cluster.on('exit') would.
 *
 * On SIGTERM the primary sends each worker "shutdown"; the drain helper
 * stops accepting, waits for clients still waiting for their count, and
 * exits 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zcluster.h"

#define NS "counter"
#define WAITING_MAX 1024

/* -- primary --------------------------------------------------------------- */

static unsigned long visits;

static int on_hit(zc_msg *m, void *userdata)
{
    zc_primary *p = userdata;
    char text[32];
    int n = snprintf(text, sizeof(text), "%lu", ++visits);

    if (visits % 100 == 0)
        (void) zc_primary_broadcast(p, "total", text, (size_t) n);
    /* The payload is the worker's ticket: it comes back with the count. */
    n += snprintf(text + n, sizeof(text) - (size_t) n, " %.*s", (int) m->len,
                  (const char *) m->data);
    return zc_primary_send(p, m->worker_id, "count", text, (size_t) n, NULL, 0);
}

static int on_event(const zc_event *e, void *userdata)
{
    (void) userdata;
    if (e->type == ZC_EVENT_EXITED)
        zc_log(ZC_LOG_INFO, NS,
               "worker %llu (slot %d) left after %lu visits "
               "to the fleet",
               (unsigned long long) e->worker_id, e->slot, visits);
    return 0;
}

static int primary_init(zc_primary *p, void *arg)
{
    int r;

    (void) arg;
    r = zc_primary_on(p, "hit", on_hit, p);
    return r < 0 ? r : zc_primary_on_event(p, on_event, NULL);
}

/* -- worker ---------------------------------------------------------------- */

static struct {
    zc_worker *w;
    int lfd;
    int waiting[WAITING_MAX];   /* clients waiting for their count, by ticket */
    unsigned n_waiting;
    unsigned long last_total;
} wk = { .lfd = -1 };

static int on_accept(int fd, uint32_t events, void *userdata)
{
    char ticket[16];
    int c, slot = -1;

    (void) events;
    (void) userdata;
    c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (c == -1)
        return errno == EAGAIN ? 0 : -errno;
    for (int i = 0; i < WAITING_MAX && slot < 0; i++)
        if (wk.waiting[i] < 0)
            slot = i;
    if (slot < 0) {             /* too many waiting: refuse this one */
        (void) close(c);
        return 0;
    }
    snprintf(ticket, sizeof(ticket), "%d", slot);
    if (zc_worker_send(wk.w, "hit", ticket, strlen(ticket), NULL, 0) < 0) {
        (void) close(c);
        return 0;
    }
    wk.waiting[slot] = c;
    wk.n_waiting++;
    return 0;
}

/* "count N TICKET": the fleet's count for the client holding TICKET. */
static int on_count(zc_msg *m, void *userdata)
{
    char text[64], line[128];
    unsigned long n;
    int ticket, len;

    (void) userdata;
    snprintf(text, sizeof(text), "%.*s", (int) m->len, (const char *) m->data);
    if (sscanf(text, "%lu %d", &n, &ticket) != 2 || ticket < 0 ||
        ticket >= WAITING_MAX || wk.waiting[ticket] < 0)
        return -EBADMSG;
    len = snprintf(line, sizeof(line),
                   "worker %llu (slot %d): visit %lu of the "
                   "fleet\n",
                   (unsigned long long) zc_self_id(), zc_self_slot(), n);
    (void) !write(wk.waiting[ticket], line, (size_t) len);
    (void) close(wk.waiting[ticket]);
    wk.waiting[ticket] = -1;
    wk.n_waiting--;
    zc_worker_drain_progress(wk.w);
    return 0;
}

static int on_total(zc_msg *m, void *userdata)
{
    char text[32];

    (void) userdata;
    snprintf(text, sizeof(text), "%.*s", (int) m->len, (const char *) m->data);
    wk.last_total = strtoul(text, NULL, 10);
    zc_log(ZC_LOG_DEBUG, NS, "the fleet is at %lu visits", wk.last_total);
    return 0;
}

static int drain(zc_worker *w, int phase, void *userdata)
{
    (void) userdata;
    switch (phase) {
    case ZC_DRAIN_STOP_ACCEPTING:
        (void) zc_worker_unwatch(w, wk.lfd);
        return 0;
    case ZC_DRAIN_IN_FLIGHT:
        return (int) wk.n_waiting;
    case ZC_DRAIN_FORCE_CLOSE:
        for (int i = 0; i < WAITING_MAX; i++)
            if (wk.waiting[i] >= 0) {
                (void) close(wk.waiting[i]);
                wk.waiting[i] = -1;
            }
        wk.n_waiting = 0;
        return 0;
    default:
        return 0;
    }
}

static int worker(int argc, char **argv, void *arg)
{
    int r;

    (void) argc;
    (void) argv;
    (void) arg;
    for (int i = 0; i < WAITING_MAX; i++)
        wk.waiting[i] = -1;
    if (zc_listen_fds() < 1)
        return 2;
    wk.lfd = 3;
    r = zc_worker_new(&wk.w, ZC_WORKER_SIGNALS);
    if (r < 0)
        return 1;
    if (zc_worker_on(wk.w, "count", on_count, NULL) < 0 ||
        zc_worker_on(wk.w, "total", on_total, NULL) < 0 ||
        zc_worker_watch(wk.w, wk.lfd, EPOLLIN | EPOLLEXCLUSIVE, on_accept,
                        NULL) < 0)
        r = -ENOMEM;
    for (int ph = ZC_DRAIN_STOP_ACCEPTING; r == 0 && ph <= ZC_DRAIN_FORCE_CLOSE;
         ph++)
        r = zc_worker_on_drain(wk.w, ph, drain, NULL);
    if (r == 0) {
        /* Shared by the fleet: a lost accept race must be EAGAIN. */
        (void) fcntl(wk.lfd, F_SETFL, fcntl(wk.lfd, F_GETFL) | O_NONBLOCK);
        r = zc_self_ready();
    }
    if (r == 0)
        r = zc_worker_run(wk.w);
    zc_worker_free(wk.w);
    return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "workers", required_argument, NULL, 'w' },
        { "listen", required_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *listen[1] = { "127.0.0.1:8081" };
    zc_options o;
    int c;

    zc_options_init(&o);
    o.workers = 2;
    while ((c = getopt_long(argc, argv, "+w:l:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'w': o.workers = (unsigned) strtoul(optarg, NULL, 10); break;
        case 'l': listen[0] = optarg; break;
        case 'h':
            printf("usage: zcluster-counter [-w N] [-l ADDR]\n");
            return 0;
        default:
            fprintf(stderr,
                    "Try 'zcluster-counter --help' for more information.\n");
            return 2;
        }
    }
    o.listen = listen;
    o.n_listen = 1;
    o.ready = ZC_READY_NOTIFY;
    o.shutdown_timeout_ms = 5000;
    o.primary_init = primary_init;
    return zc_cluster_run(argc, argv, worker, NULL, &o);
}
