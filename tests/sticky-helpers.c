/*
 * Workers for the sticky-session tests. sticky_worker takes the
 * connections its primary hands over and answers each with one line
 * naming itself and what it was told:
 *
 *   slot=1 id=4 listener=0 client=127.0.0.5 port=40312 server=- sport=0 data=x
 *
 * where data is the first line the client sent (read before answering,
 * so a PROXY header left unconsumed would show). Then it closes.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

static int on_conn(zc_worker *w, const zc_conn *c, void *userdata)
{
    struct pollfd pf = { .fd = c->fd, .events = POLLIN };
    char data[256], out[512];
    size_t len = 0;
    int n;

    (void) w;
    (void) userdata;
    /* Clients write their line right after connecting: wait for it. */
    while (len < sizeof(data) - 1 && !memchr(data, '\n', len) &&
           poll(&pf, 1, 2000) == 1) {
        ssize_t r = recv(c->fd, data + len, sizeof(data) - 1 - len, 0);

        if (r <= 0)
            break;
        len += (size_t) r;
    }
    data[len] = '\0';
    data[strcspn(data, "\r\n")] = '\0';
    n = snprintf(out, sizeof(out), "slot=%d id=%llu listener=%u client=%s "
                 "port=%u server=%s sport=%u data=%s\n", zc_self_slot(),
                 (unsigned long long) zc_self_id(), c->listener,
                 c->client[0] ? c->client : "-", c->client_port,
                 c->server ? c->server : "-", c->server_port, data);
    (void) !send(c->fd, out, (size_t) n, MSG_NOSIGNAL);
    (void) close(c->fd);
    return 0;
}

static int sticky_serve(int argc, char **argv, void *arg)
{
    zc_worker *w;
    int r;

    (void) arg;
    if (zc_worker_new(&w, ZC_WORKER_SIGNALS) < 0)
        return 3;
    zc_worker_on_connection(w, on_conn, NULL);
    /* usr1: ready only when told (for --ready notify). */
    if (argc > 0 && strcmp(argv[0], "usr1") == 0) {
        sigset_t set;
        int sig;

        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        sigprocmask(SIG_BLOCK, &set, NULL);
        sigwait(&set, &sig);
    }
    zc_self_ready();
    r = zc_worker_run(w);
    zc_worker_free(w);
    return r < 0 ? 1 : 0;
}

/* sticky_worker [usr1] */
int helper_sticky_worker(int argc, char **argv)
{
    return sticky_serve(argc, argv, NULL);
}

/* The last number of the address, so a test knows where each client
 * goes: 127.0.0.7 with 3 slots is slot 1. */
static unsigned last_octet(const char *addr, unsigned count, void *userdata)
{
    const char *dot = strrchr(addr, '.');

    (void) userdata;
    return dot ? (unsigned) atoi(dot + 1) : count + 1;
}

/* sticky_lib ADDR N: a library primary with its own hash, whose
 * workers are sticky_workers (this program re-executed). */
int helper_sticky_lib(int argc, char **argv)
{
    const char *listen[1];
    char *args[] = { (char *) zt_self(), (char *) "--helper",
                     (char *) "sticky_lib", argv[0], argv[1], NULL };
    zc_options o;

    if (argc < 2)
        return 2;
    listen[0] = argv[0];
    zc_options_init(&o);
    o.workers = (unsigned) atoi(argv[1]);
    o.listen = listen;
    o.n_listen = 1;
    o.sticky = true;
    o.sticky_hash = last_octet;
    o.ready = ZC_READY_NOTIFY;
    return zc_cluster_run(5, args, sticky_serve, NULL, &o);
}
