/*
 * The fleet as state, written by the image about to be replaced
 * (carry.h; takeover.c reads it in the next one, in the same process).
 * The fds travel as themselves: the exec keeps every fd that is not
 * close-on-exec at its number, so a record names its fd by number, and
 * the writer gives the list of them to the caller to let through.
 *
 * What a record holds is what the image before knows and the next cannot
 * find out: the running options (as a configuration file's text), the
 * fleet's counters, its sockets and reuseport groups, each slot and each
 * worker, the links with what is queued on them, the output pipes with
 * their unfinished lines, what workers that are gone counted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/set.h"
#include "primary/core/collect.h"
#include "primary/core/node.h"
#include "primary/core/output.h"
#include "primary/spread/accept.h"
#include "primary/spread/router.h"
#include "primary/loop/carry-tags.h"
#include "primary/loop/carry.h"

struct writing {
    struct zc__state_w w;
    int *fds;
    size_t n_fds, cap_fds;
    bool failed;
};

/* Records fd as carried: the caller lets it through the exec. */
static void fd_rec(struct writing *W, uint16_t tag, int fd)
{
    if (fd < 0)
        return;
    if (W->n_fds == W->cap_fds) {
        size_t cap = W->cap_fds ? 2 * W->cap_fds : 64;
        int *f = realloc(W->fds, cap * sizeof(*f));

        if (!f) {
            W->failed = true;
            return;
        }
        W->fds = f;
        W->cap_fds = cap;
    }
    W->fds[W->n_fds++] = fd;
    zc__state_u64(&W->w, tag, (uint64_t) fd);
}

static void f64_rec(struct zc__state_w *w, uint16_t tag, double v)
{
    zc__state_bytes(w, tag, &v, sizeof(v));
}

/* --give-up's window: the slot's failures, oldest first. */
static void write_fails(struct zc__state_w *w, const struct health_slot *h)
{
    uint64_t at[ZC__FAILS_KEPT];

    for (unsigned i = 0; i < h->n_fails; i++)
        at[i] = h->fails_us[(h->next_fail + ZC__FAILS_KEPT - h->n_fails + i) %
                            ZC__FAILS_KEPT];
    zc__state_bytes(w, S_FAILS, at, h->n_fails * sizeof(at[0]));
    zc__state_u64(w, S_FAILED_US, h->failed_us);
}

static void write_slot(struct writing *W, const struct slot *s)
{
    struct zc__state_w *w = &W->w;

    zc__state_open(w, F_SLOT);
    zc__state_u64(w, S_INDEX, s->index);
    zc__state_u64(w, S_STATE, s->state);
    zc__state_u64(w, S_GENERATION, s->generation);
    zc__state_u64(w, S_LAST_ID, s->last_id);
    zc__state_u64(w, S_CRASHES, s->crashes);
    zc__state_u64(w, S_READY_US, s->ready_us);
    zc__state_u64(w, S_RESTARTS, s->restarts);
    zc__state_u64(w, S_BACKOFF_MS, s->backoff_ms);
    if (zc__timer_is_active(&s->timer))
        zc__state_u64(w, S_RESPAWN_AT, s->timer.deadline_us);
    f64_rec(w, S_CPU_GONE, s->metrics.cpu_gone_s);
    write_fails(w, &s->health);
    zc__state_u64(w, S_STICKY_DOWN, s->sticky.down);
    zc__state_close(w);
}

/* --node: its channel's state (node.c says what it is). */
static uint64_t node_flags(const struct worker *k)
{
    struct zc__node_carry c;

    if (!k->p->opt.node)
        return 0;
    zc__node_hand_over(k, &c);
    return (c.online ? WF_NODE_ONLINE : 0) |
           (c.disconnected ? WF_NODE_DISCONNECTED : 0) |
           (c.cut ? WF_NODE_CUT : 0);
}

static void write_node(struct zc__state_w *w, const struct worker *k)
{
    struct zc__node_carry c;

    zc__node_hand_over(k, &c);
    zc__state_u64(w, W_NODE_SEQ, (uint64_t) c.seq);
    zc__state_u64(w, W_NODE_HANDLES, c.handles);
    zc__state_u64(w, W_NODE_ACKED, c.acked);
    zc__state_u64(w, W_NODE_QUERY, c.query_handle);
    zc__state_u64(w, W_NODE_BAD_LINES, c.bad_lines);
    zc__state_u64(w, W_NODE_IGNORED, c.ignored);
    zc__state_bytes(w, W_NODE_HELD, c.held, c.n_held);
}

static void write_node_server(void *arg, const char *want, const char *text,
                              int fd)
{
    struct writing *W = arg;

    zc__state_open(&W->w, F_NODE_SERVER);
    zc__state_text(&W->w, N_WANT, want);
    zc__state_text(&W->w, N_TEXT, text);
    fd_rec(W, N_FD, fd);
    zc__state_close(&W->w);
}

static void write_worker(struct writing *W, const struct worker *k)
{
    struct zc__state_w *w = &W->w;
    const struct zc__ipc *c = &k->ipc;

    zc__state_open(w, F_WORKER);
    zc__state_u64(w, W_PID, (uint64_t) k->pid);
    zc__state_u64(w, W_ID, k->id);
    zc__state_u64(w, W_SLOT, k->slot_index);
    zc__state_u64(w, W_GENERATION, k->generation);
    zc__state_u64(w, W_STATE, k->state);
    zc__state_u64(w, W_STARTED_US, k->started_us);
    zc__state_u64(w, W_FLAGS,
                  (k->linked ? WF_LINKED : 0) |
                      (k->said_ready ? WF_SAID_READY : 0) |
                      (k->deaf ? WF_DEAF : 0) |
                      (k->metrics.reports_text ? WF_TEXT : 0) |
                      (k->health.missed ? WF_MISSED : 0) |
                      (k->health.hung ? WF_HUNG : 0) |
                      (k->health.limits_set ? WF_LIMITS_SET : 0) |
                      (k->balance.untrusted ? WF_UNTRUSTED : 0) |
                      node_flags(k));
    /* The watchdog's last word from it, its recycling limits as drawn. */
    zc__state_u64(w, W_HEARD_US, k->health.heard_us);
    zc__state_u64(w, W_PINGS_SEEN, k->health.pings_seen);
    zc__state_u64(w, W_LIFETIME_END_US, k->health.lifetime_end_us);
    zc__state_u64(w, W_MEMORY_LIMIT, k->health.memory_limit);
    zc__state_u64(w, W_RECYCLE_REASON,
                  (uint64_t) (k->health.recycle_reason + 1));
    /* least-conn's count of what it handed it, and whether it says its
     * closes (leastconn.c) */
    zc__state_u64(w, W_HANDED, k->balance.handed);
    zc__state_u64(w, W_FULL_SINCE_US, k->balance.full_since_us);
    zc__state_text(w, W_STATUS, k->status);
    if (c->fd >= 0) {
        fd_rec(W, W_IPC_FD, c->fd);
        /* What it has not been sent yet, and what it sent that is not a
         * whole frame yet: the stream goes on from the next image. */
        zc__state_bytes(w, W_QUEUED, c->wbuf + c->wpos, c->wlen - c->wpos);
        zc__state_bytes(w, W_UNREAD, c->rbuf + c->rpos, c->rlen - c->rpos);
        zc__state_u64(w, W_SENT, c->sent);
        zc__state_u64(w, W_RECEIVED, c->received);
    }
    if (k->metrics.memfd > 0)
        fd_rec(W, W_MEMFD, k->metrics.memfd);
    if (k->p->opt.node)
        write_node(w, k);
    zc__state_close(w);
}

static void write_pipe(void *arg, const struct zc__output_pipe *d)
{
    struct writing *W = arg;
    struct zc__state_w *w = &W->w;

    zc__state_open(w, F_PIPE);
    fd_rec(W, P_FD, d->fd);
    zc__state_u64(w, P_ERR, d->err);
    zc__state_u64(w, P_SLOT, d->slot);
    zc__state_u64(w, P_ID, d->id);
    zc__state_u64(w, P_GEN, d->gen);
    zc__state_u64(w, P_PID, (uint64_t) d->pid);
    zc__state_u64(w, P_WORKER, d->has_worker);
    zc__state_bytes(w, P_HELD, d->held, d->n_held);
    zc__state_u64(w, P_PART, d->part);
    zc__state_close(w);
}

/* A reuseport group: its sockets in slot order (UINT64_MAX for one
 * abandoned, so that each keeps its place), its eBPF program and maps. */
static void write_group(struct writing *W, const struct balance_listener *b)
{
    for (unsigned k = 0; k < b->n; k++)
        if (b->fds[k] >= 0)
            fd_rec(W, L_GROUP_FD, b->fds[k]);
        else
            zc__state_u64(&W->w, L_GROUP_FD, UINT64_MAX);
    fd_rec(W, L_RR_PROG, b->rr.prog);
    fd_rec(W, L_RR_SOCKS, b->rr.socks);
    fd_rec(W, L_RR_STATE, b->rr.state);
    fd_rec(W, L_RR_COUNTS, b->rr.counts);
}

static void write_balance(struct writing *W, const struct balance_fleet *b)
{
    uint32_t live[ZC_MAX_WORKERS];
    uint64_t counts[8] = { b->steer_changes, b->waited,     b->moved,
                           b->reset,         b->taken_out,  b->watch_ticks,
                           b->stuck_moved,   b->stuck_reset };

    for (unsigned i = 0; i < b->n_live && i < ZC_MAX_WORKERS; i++)
        live[i] = b->live[i];
    zc__state_bytes(&W->w, F_BAL_LIVE, live, b->n_live * sizeof(live[0]));
    zc__state_u64(&W->w, F_BAL_FLAGS,
                  (b->round_robin ? BF_ROUND_ROBIN : 0) |
                      (b->steered ? BF_STEERED : 0) |
                      (b->said_no_steering ? BF_NO_STEERING : 0) |
                      (b->migrate ? BF_MIGRATE : 0));
    zc__state_bytes(&W->w, F_BAL_COUNTS, counts, sizeof(counts));
}

/* What workers that are gone counted, so that no counter goes back. */
static void write_base(void *arg, const struct zc__mbase *b)
{
    struct zc__state_w *w = arg;
    uint64_t flags = b->flags | (b->has_bounds ? 1ull << 32 : 0);

    zc__state_open(w, F_MBASE);
    zc__state_text(w, M_NAME, b->name);
    zc__state_text(w, M_HELP, b->help ? b->help : "");
    zc__state_u64(w, M_TYPE, (uint64_t) b->type);
    zc__state_u64(w, M_FLAGS, flags);
    if (b->has_bounds && b->n_buckets)
        zc__state_bytes(w, M_BOUNDS, b->bounds, b->n_buckets * sizeof(double));
    zc__state_bytes(w, M_KEY, b->key, b->key_len);
    f64_rec(w, M_BASE, b->base);
    zc__state_close(w);
}

static void write_fleet(struct writing *W, struct zc_primary *p,
                        const struct carry_out *out, const char *options)
{
    struct zc__state_w *w = &W->w;
    uint64_t outcomes[ZC__RELOAD_OUTCOMES];

    zc__state_text(w, F_NAME, p->name);
    zc__state_u64(w, F_GENERATION, p->generation);
    zc__state_u64(w, F_RUNNING_GEN, p->running_generation);
    zc__state_u64(w, F_NEXT_ID, p->next_worker_id);
    zc__state_u64(w, F_WALKS, p->walks);
    zc__state_u64(w, F_START_US, p->start_us);
    zc__state_u64(w, F_UPGRADES, p->upgrade.count);
    memcpy(outcomes, p->reload_outcomes, sizeof(outcomes));
    zc__state_bytes(w, F_OUTCOMES, outcomes, sizeof(outcomes));
    zc__state_u64(w, F_IPC_DROPPED, p->ipc_dropped);
    zc__state_bytes(w, F_LAST_RELOAD, &p->last_reload, sizeof(p->last_reload));
    zc__state_text(w, F_OPTIONS, options);
    if (p->opt.config)
        zc__state_text(w, F_CONFIG, p->opt.config);
    zc__state_bytes(w, F_SIGMASK, out->mask, sizeof(*out->mask));
    fd_rec(W, F_EXE_FD, p->exe_fd);
    zc__state_text(w, F_EXE_PATH, p->exe_path);
    fd_rec(W, F_NOTIFY_FD, p->notify_fd);
    zc__state_text(w, F_NOTIFY_PATH, p->env.notify + strlen("NOTIFY_SOCKET="));
    if (out->control_fd >= 0) {
        fd_rec(W, F_CONTROL_FD, out->control_fd);
        fd_rec(W, F_CONTROL_LOCK, out->control_lock);
        zc__state_text(w, F_CONTROL_PATH, out->control_path);
    }
    fd_rec(W, F_METRICS_FD, out->metrics_fd);
    zc__state_u64(w, F_FLAGS,
                  (p->any_ready ? FL_ANY_READY : 0) |
                      (p->any_failed ? FL_ANY_FAILED : 0) |
                      (p->announced_ready ? FL_ANNOUNCED : 0));
    zc__state_u64(w, F_N_SLOTS, p->n_slots);
    zc__state_u64(w, F_SERIAL, p->upgrade.serial);
    zc__state_text(w, F_FROM, ZC_VERSION);
    zc__state_u64(w, F_EXEC_US, zc__now_us());
    zc__state_u64(w, F_RELOAD_AFTER, p->upgrade.reload_after);
    zc__state_text(w, F_BY, p->upgrade.by);
    write_balance(W, &p->balance);
    if (p->metrics) {
        zc__state_u64(w, F_IPC_GONE, p->metrics->ipc_sent_gone);
        zc__state_u64(w, F_IPC_GONE, p->metrics->ipc_received_gone);
    }
}

/* A connection waiting in the router, its fd carried. */
static void write_conn(void *arg, int slot, const struct conn *c)
{
    struct writing *W = arg;
    struct zc__state_w *w = &W->w;

    zc__state_open(w, F_CONN);
    zc__state_u64(w, C_SLOT, (uint64_t) (slot + 1));
    fd_rec(W, C_FD, c->fd);
    zc__state_u64(w, C_LISTENER, c->listener);
    zc__state_u64(w, C_HOME, c->home);
    zc__state_u64(w, C_SINCE_US, c->since_us);
    zc__state_u64(w, C_CLIENT_PORT, c->client_port);
    zc__state_u64(w, C_SERVER_PORT, c->server_port);
    zc__state_u64(w, C_PROXIED, c->proxied);
    zc__state_text(w, C_CLIENT, c->client);
    zc__state_text(w, C_SERVER, c->server);
    zc__state_close(w);
}

/* A line of the ring `zclusterctl logs` reads: its slot, then its text. */
static void write_recent(void *arg, unsigned slot, const char *s, size_t n)
{
    struct zc__state_w *w = arg;
    uint8_t *v = malloc(n + 4);

    if (!v) {
        w->failed = true;
        return;
    }
    memcpy(v, &(uint32_t) { slot }, 4);
    memcpy(v + 4, s, n);
    zc__state_bytes(w, F_RECENT, v, n + 4);
    free(v);
}

/* The router's counters and what waits in it; the acceptor's counters. */
static void write_router(struct writing *W, const struct zc_primary *p)
{
    uint64_t counts[32];
    size_t n;

    if (!p->router || !p->router_state)
        return;
    n = p->router->hand_over(p, counts, 32, write_conn, W);
    zc__state_bytes(&W->w, F_ROUTER_COUNTS, counts, n * sizeof(counts[0]));
    if (p->router_acc) {
        const struct zc__accept_stats *a = zc__accept_stats(p->router_acc);
        uint64_t v[2] = { a->accept_pauses, a->closed_proxy };

        zc__state_bytes(&W->w, F_ACCEPT_COUNTS, v, sizeof(v));
    }
}

int zc__carry_write(struct zc_primary *p, const struct carry_out *out,
                    struct carry_state *st)
{
    struct writing W = { .failed = false };
    char *options = zc_config_format(&p->opt);

    *st = (struct carry_state) { .data = NULL };
    if (!options)
        return -ENOMEM;
    zc__state_begin(&W.w);
    write_fleet(&W, p, out, options);
    free(options);
    for (size_t i = 0; i < p->n_listeners; i++) {
        const struct listener *ln = &p->listeners[i];

        zc__state_open(&W.w, F_LISTENER);
        fd_rec(&W, L_FD, ln->fd);
        zc__state_u64(&W.w, L_ADOPTED, ln->adopted);
        zc__state_text(&W.w, L_NAME, ln->addr.name);
        write_group(&W, &ln->balance);
        zc__state_close(&W.w);
    }
    for (unsigned i = 0; i < p->n_kept; i++)
        if (p->slots[i])
            write_slot(&W, p->slots[i]);
    for (const struct worker *k = p->workers; k; k = k->next)
        write_worker(&W, k);
    zc__output_each_pipe(p, write_pipe, &W);
    if (p->metrics)
        zc__mset_each_base(p->metrics->set, write_base, &W.w);
    write_router(&W, p);
    zc__output_each_recent(p, write_recent, &W.w);
    zc__node_each_server(p, write_node_server, &W);
    zc__state_u64(&W.w, F_NODE_IGNORED, p->node_stats.ignored);
    st->data = zc__state_finish(&W.w, &st->len);
    if (!st->data || W.failed) {
        free(st->data);
        free(W.fds);
        st->data = NULL;
        return -ENOMEM;
    }
    st->fds = W.fds;
    st->n_fds = W.n_fds;
    return 0;
}

void zc__carry_state_free(struct carry_state *st)
{
    free(st->data);
    free(st->fds);
    *st = (struct carry_state) { .data = NULL };
}
