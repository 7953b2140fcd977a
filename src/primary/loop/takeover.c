/*
 * The fleet as state, read by the image that replaces the one that wrote
 * it (carry.h, handover.c): first the fleet's records, before it is set up
 * (its options, counters and sockets), then, set up, its slots, workers,
 * output pipes and metrics. Nothing in it is trusted: an fd must be open
 * here, a number in range, a section whole; a record not known is skipped
 * (a newer image may add some), and a state that cannot be used whole is
 * refused, the upgrade then going back to the image before.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "metrics/set.h"
#include "primary/core/collect.h"
#include "primary/core/link.h"
#include "primary/core/node.h"
#include "primary/core/output.h"
#include "primary/life/respawn.h"
#include "primary/life/worker.h"
#include "primary/loop/carry-tags.h"
#include "primary/loop/carry.h"
#include "primary/loop/inputs.h"
#include "primary/spread/accept.h"
#include "primary/spread/router.h"

#define NS ZC__PNS

static int bad(char *why, size_t size, const char *what)
{
    snprintf(why, size, "the state handed over is not usable: %s", what);
    return -EINVAL;
}

/* An fd the state names: one that is open in this process, or -1. */
static int fd_of(const struct zc__state_rec *rec)
{
    uint64_t v;

    if (zc__state_get_u64(rec, &v) < 0 || v > INT32_MAX ||
        fcntl((int) v, F_GETFD) == -1)
        return -1;
    return (int) v;
}

static uint64_t u64_of(const struct zc__state_rec *rec)
{
    uint64_t v = 0;

    (void) zc__state_get_u64(rec, &v);
    return v;
}

static int read_listener(struct carried *c, const struct zc__state_rec *sec)
{
    struct carried_listener *l = &c->listen[c->n_listen];
    struct zc__state_r r;
    struct zc__state_rec rec;

    if (c->n_listen == ZC_MAX_LISTEN)
        return -EINVAL;
    *l = (struct carried_listener) { .fd = -1, .rr = ZC__RR_CLOSED };
    c->n_listen++; /* counted now: what it holds is freed with it */
    zc__state_enter(&r, sec);
    while (zc__state_next(&r, &rec) == 1)
        switch (rec.tag) {
        case L_FD: l->fd = fd_of(&rec); break;
        case L_ADOPTED: l->adopted = u64_of(&rec) != 0; break;
        case L_NAME:
            (void) zc__state_get_text(&rec, l->name, sizeof(l->name));
            break;
        case L_GROUP_FD:
            if (l->n_group == ZC_MAX_WORKERS)
                return -EINVAL;
            if (l->n_group % 64 == 0) {
                int *g = realloc(l->group, (l->n_group + 64) * sizeof(*g));

                if (!g)
                    return -ENOMEM;
                l->group = g;
            }
            l->group[l->n_group++] = fd_of(&rec);
            break;
        case L_RR_PROG: l->rr.prog = fd_of(&rec); break;
        case L_RR_SOCKS: l->rr.socks = fd_of(&rec); break;
        case L_RR_STATE: l->rr.state = fd_of(&rec); break;
        case L_RR_COUNTS: l->rr.counts = fd_of(&rec); break;
        default: break;
        }
    if (l->fd < 0 || (l->n_group && l->group[0] != l->fd))
        return -EBADF;
    return 0;
}

static int read_balance(struct carried *c, const struct zc__state_rec *rec)
{
    switch (rec->tag) {
    case F_BAL_LIVE:
        if (rec->len % sizeof(uint32_t) ||
            rec->len / sizeof(uint32_t) > ZC_MAX_WORKERS)
            return -EINVAL;
        c->n_live = (unsigned) (rec->len / sizeof(uint32_t));
        free(c->live);
        c->live = calloc(c->n_live + 1, sizeof(*c->live));
        if (!c->live)
            return -ENOMEM;
        for (unsigned i = 0; i < c->n_live; i++) {
            uint32_t v;

            memcpy(&v, rec->value + i * sizeof(v), sizeof(v));
            c->live[i] = v;
        }
        break;
    case F_BAL_FLAGS:
        c->round_robin = u64_of(rec) & BF_ROUND_ROBIN;
        c->steered = u64_of(rec) & BF_STEERED;
        c->said_no_steering = u64_of(rec) & BF_NO_STEERING;
        c->migrate = u64_of(rec) & BF_MIGRATE;
        break;
    case F_BAL_COUNTS:
        if (rec->len != sizeof(c->counts))
            return -EINVAL;
        memcpy(c->counts, rec->value, rec->len);
        break;
    default: break;
    }
    return 0;
}

static int fleet_rec(struct zc_primary *p, struct carry_in *in,
                     const struct zc__state_rec *rec)
{
    struct carried *c = p->carried;

    switch (rec->tag) {
    case F_NAME: return zc__state_get_text(rec, c->name, sizeof(c->name));
    case F_GENERATION: p->generation = u64_of(rec); break;
    case F_RUNNING_GEN: p->running_generation = u64_of(rec); break;
    case F_NEXT_ID: p->next_worker_id = u64_of(rec); break;
    case F_WALKS: p->walks = u64_of(rec); break;
    case F_START_US: p->start_us = u64_of(rec); break;
    case F_UPGRADES: p->upgrade.count = u64_of(rec); break;
    case F_IPC_DROPPED: p->ipc_dropped = u64_of(rec); break;
    case F_OUTCOMES:
        if (rec->len != sizeof(p->reload_outcomes))
            return -EINVAL;
        memcpy(p->reload_outcomes, rec->value, rec->len);
        break;
    case F_LAST_RELOAD:
        if (rec->len != sizeof(p->last_reload))
            return -EINVAL;
        memcpy(&p->last_reload, rec->value, rec->len);
        p->last_reload.why[sizeof(p->last_reload.why) - 1] = '\0';
        break;
    case F_OPTIONS:
        in->options = (const char *) rec->value;
        in->options_len = rec->len;
        break;
    case F_CONFIG:
        return zc__state_get_text(rec, in->config, sizeof(in->config));
    case F_SIGMASK:
        if (rec->len != sizeof(in->mask))
            return -EINVAL;
        memcpy(&in->mask, rec->value, rec->len);
        in->has_mask = true;
        break;
    case F_EXE_FD: in->exe_fd = fd_of(rec); break;
    case F_EXE_PATH:
        return zc__state_get_text(rec, in->exe_path, sizeof(in->exe_path));
    case F_NOTIFY_FD: c->notify = fd_of(rec); break;
    case F_NOTIFY_PATH:
        return zc__state_get_text(rec, c->notify_path, sizeof(c->notify_path));
    case F_CONTROL_FD: c->control = fd_of(rec); break;
    case F_CONTROL_LOCK: c->control_lock = fd_of(rec); break;
    case F_CONTROL_PATH:
        return zc__state_get_text(rec, c->control_path,
                                  sizeof(c->control_path));
    case F_METRICS_FD: c->metrics = fd_of(rec); break;
    case F_FLAGS:
        p->any_ready = u64_of(rec) & FL_ANY_READY;
        p->any_failed = u64_of(rec) & FL_ANY_FAILED;
        p->announced_ready = u64_of(rec) & FL_ANNOUNCED;
        break;
    case F_N_SLOTS: in->n_slots = (unsigned) u64_of(rec); break;
    case F_SERIAL: p->upgrade.serial = u64_of(rec); break;
    case F_FROM:
        return zc__state_get_text(rec, p->upgrade.from,
                                  sizeof(p->upgrade.from));
    case F_EXEC_US: in->exec_us = u64_of(rec); break;
    case F_RELOAD_AFTER: p->upgrade.reload_after = u64_of(rec) != 0; break;
    case F_BY: return zc__state_get_text(rec, in->by, sizeof(in->by));
    case F_IPC_GONE: in->ipc_gone[in->n_ipc_gone++ & 1] = u64_of(rec); break;
    case F_ROUTER_COUNTS:
        if (rec->len % sizeof(uint64_t) || rec->len > sizeof(in->router_counts))
            return -EINVAL;
        memcpy(in->router_counts, rec->value, rec->len);
        in->n_router_counts = rec->len / sizeof(uint64_t);
        break;
    case F_ACCEPT_COUNTS:
        if (rec->len != sizeof(in->accept_counts))
            return -EINVAL;
        memcpy(in->accept_counts, rec->value, rec->len);
        in->has_accept_counts = true;
        break;
    case F_NODE_IGNORED: p->node_stats.ignored = u64_of(rec); break;
    case F_LISTENER: return read_listener(c, rec);
    case F_BAL_LIVE:
    case F_BAL_FLAGS:
    case F_BAL_COUNTS: return read_balance(c, rec);
    default: /* a record of a newer image, or of a section */ break;
    }
    return 0;
}

int zc__carry_read_fleet(struct zc_primary *p, const void *data, size_t len,
                         struct carry_in *in, char *why, size_t size)
{
    struct zc__state_r r;
    struct zc__state_rec rec;
    uint32_t version;
    int n;

    *in = (struct carry_in) { .exe_fd = -1 };
    if (zc__state_open_read(&r, data, len, &version, why, size) < 0)
        return -EINVAL;
    if (version < ZC__STATE_MIN || version > ZC__STATE_VERSION) {
        snprintf(why, size,
                 "the state handed over is version %u; this "
                 "image reads %u to %u",
                 version, ZC__STATE_MIN, ZC__STATE_VERSION);
        return -EPROTO;
    }
    p->carried = calloc(1, sizeof(*p->carried));
    if (!p->carried)
        return bad(why, size, "no memory");
    *p->carried = (struct carried) {
        .notify = -1, .control = -1, .control_lock = -1, .metrics = -1
    };
    while ((n = zc__state_next(&r, &rec)) == 1)
        if (fleet_rec(p, in, &rec) < 0) {
            char what[64];

            snprintf(what, sizeof(what), "record %u of the fleet",
                     (unsigned) rec.tag);
            return bad(why, size, what);
        }
    if (n < 0)
        return bad(why, size, "a record runs past the end");
    if (!in->options || !in->n_slots || in->n_slots > ZC_MAX_WORKERS)
        return bad(why, size, "no options or no workers");
    if (p->carried->notify < 0)
        return bad(why, size, "no notify socket");
    in->data = data;
    in->len = len;
    return 0;
}

/* --- the slots and workers, once the fleet is set up --- */

static int read_slot(struct zc_primary *p, const struct zc__state_rec *sec)
{
    struct zc__state_r r;
    struct zc__state_rec rec;
    struct slot *s = NULL;
    uint64_t respawn_at = 0;

    zc__state_enter(&r, sec);
    while (zc__state_next(&r, &rec) == 1) {
        uint64_t v = u64_of(&rec);

        if (rec.tag == S_INDEX) {
            if (v >= ZC_MAX_WORKERS)
                return -EINVAL;
            if (v >= p->n_kept) {
                if (zc__respawn_grow_slots(p, (unsigned) v + 1) < 0 ||
                    !(p->slots[v] = zc__respawn_slot_new(p, (unsigned) v)))
                    return -ENOMEM;
            }
            s = p->slots[v];
            if (!s)
                return -EINVAL;
            continue;
        }
        if (!s)
            return -EINVAL; /* the index comes first */
        switch (rec.tag) {
        case S_STATE:
            if (v > SLOT_FAILED)
                return -EINVAL;
            s->state = (enum slot_state) v;
            break;
        case S_GENERATION: s->generation = v; break;
        case S_LAST_ID: s->last_id = v; break;
        case S_CRASHES: s->crashes = (unsigned) v; break;
        case S_READY_US: s->ready_us = v; break;
        case S_RESTARTS: s->restarts = v; break;
        case S_BACKOFF_MS: s->backoff_ms = v; break;
        case S_RESPAWN_AT: respawn_at = v; break;
        case S_FAILS:
            if (rec.len % sizeof(uint64_t) ||
                rec.len / sizeof(uint64_t) > ZC__FAILS_KEPT)
                return -EINVAL;
            s->health.n_fails = (unsigned) (rec.len / sizeof(uint64_t));
            memcpy(s->health.fails_us, rec.value, rec.len);
            s->health.next_fail = s->health.n_fails % ZC__FAILS_KEPT;
            break;
        case S_FAILED_US: s->health.failed_us = v; break;
        case S_STICKY_DOWN: s->sticky.down = v != 0; break;
        case S_CPU_GONE:
            if (rec.len == sizeof(double))
                memcpy(&s->metrics.cpu_gone_s, rec.value, sizeof(double));
            break;
        default: break;
        }
    }
    /* A respawn that was waiting keeps its time: the backoff goes on. */
    if (s && s->index < p->n_slots && respawn_at &&
        (s->state == SLOT_BACKOFF || s->state == SLOT_FAILED) &&
        zc__timer_start(&p->loop, &s->timer, respawn_at) < 0)
        return -ENOMEM;
    return 0;
}

struct worker_rec {
    uint64_t pid, id, slot, gen, state, started_us, flags, sent, received;
    struct health_worker health;
    uint64_t handed, full_since_us;
    struct zc__node_carry node;
    int ipc_fd, memfd;
    const struct zc__state_rec *queued, *unread;
    struct zc__state_rec q, u;
    char status[128];
};

static void adopt_link(struct zc_primary *p, struct worker *w,
                       const struct worker_rec *k)
{
    if (k->ipc_fd < 0)
        return;
    if (zc__link_open(p, w, k->ipc_fd) < 0) {
        zc__link_close(p, w);
        return;
    }
    w->ipc.sent = k->sent;
    w->ipc.received = k->received;
    if (k->queued && k->queued->len &&
        zc__ipc_requeue(&w->ipc, k->queued->value, k->queued->len) == 0)
        zc__link_watch(p, w);
    /* Short of a frame (the image before parsed every whole one). */
    if (k->unread && k->unread->len)
        zc__inputs_link_feed(p, w, k->unread->value, k->unread->len);
}

static int read_worker(struct zc_primary *p, const struct zc__state_rec *sec)
{
    struct worker_rec k = { .ipc_fd = -1, .memfd = -1 };
    struct zc__state_r r;
    struct zc__state_rec rec;
    struct slot *s;
    struct worker *w;

    zc__state_enter(&r, sec);
    while (zc__state_next(&r, &rec) == 1)
        switch (rec.tag) {
        case W_PID: k.pid = u64_of(&rec); break;
        case W_ID: k.id = u64_of(&rec); break;
        case W_SLOT: k.slot = u64_of(&rec); break;
        case W_GENERATION: k.gen = u64_of(&rec); break;
        case W_STATE: k.state = u64_of(&rec); break;
        case W_STARTED_US: k.started_us = u64_of(&rec); break;
        case W_FLAGS: k.flags = u64_of(&rec); break;
        case W_STATUS:
            (void) zc__state_get_text(&rec, k.status, sizeof(k.status));
            break;
        case W_IPC_FD: k.ipc_fd = fd_of(&rec); break;
        case W_QUEUED:
            k.q = rec;
            k.queued = &k.q;
            break;
        case W_UNREAD:
            k.u = rec;
            k.unread = &k.u;
            break;
        case W_SENT: k.sent = u64_of(&rec); break;
        case W_RECEIVED: k.received = u64_of(&rec); break;
        case W_MEMFD: k.memfd = fd_of(&rec); break;
        case W_HANDED: k.handed = u64_of(&rec); break;
        case W_NODE_SEQ: k.node.seq = (long long) u64_of(&rec); break;
        case W_NODE_HANDLES: k.node.handles = u64_of(&rec); break;
        case W_NODE_ACKED: k.node.acked = u64_of(&rec); break;
        case W_NODE_QUERY: k.node.query_handle = u64_of(&rec); break;
        case W_NODE_BAD_LINES:
            k.node.bad_lines = (unsigned) u64_of(&rec);
            break;
        case W_NODE_IGNORED: k.node.ignored = (unsigned) u64_of(&rec); break;
        case W_NODE_HELD:
            k.node.held = (const char *) rec.value;
            k.node.n_held = rec.len;
            break;
        case W_FULL_SINCE_US: k.full_since_us = u64_of(&rec); break;
        case W_HEARD_US: k.health.heard_us = u64_of(&rec); break;
        case W_PINGS_SEEN: k.health.pings_seen = u64_of(&rec); break;
        case W_LIFETIME_END_US: k.health.lifetime_end_us = u64_of(&rec); break;
        case W_MEMORY_LIMIT: k.health.memory_limit = u64_of(&rec); break;
        case W_RECYCLE_REASON:
            k.health.recycle_reason = (int) u64_of(&rec) - 1;
            break;
        default: break;
        }
    if (!k.pid || k.pid > INT32_MAX || k.slot >= p->n_slots ||
        k.state > W_READY)
        return -EINVAL;
    s = p->slots[k.slot];
    if (s->w)
        return -EINVAL; /* two workers for one slot */
    w = zc__worker_adopt(p, s, (unsigned) k.slot, k.id, k.gen, (pid_t) k.pid);
    if (!w)
        return -ENOMEM;
    s->w = w;
    w->started_us = k.started_us;
    w->linked = k.flags & WF_LINKED;
    w->said_ready = k.flags & WF_SAID_READY;
    w->deaf = k.flags & WF_DEAF;
    /* Asked again at the next scrape, which waits for its answer. */
    w->metrics.reports_text = k.flags & WF_TEXT;
    w->health = k.health;
    w->health.missed = k.flags & WF_MISSED;
    w->health.hung = k.flags & WF_HUNG;
    w->health.limits_set = k.flags & WF_LIMITS_SET;
    w->balance.handed = k.handed;
    w->balance.full_since_us = k.full_since_us;
    w->balance.untrusted = k.flags & WF_UNTRUSTED;
    k.node.online = k.flags & WF_NODE_ONLINE;
    k.node.disconnected = k.flags & WF_NODE_DISCONNECTED;
    k.node.cut = k.flags & WF_NODE_CUT;

    memcpy(w->status, k.status, sizeof(w->status));
    adopt_link(p, w, &k);
    if (p->opt.node && w->ipc.fd >= 0 && zc__node_take(w, &k.node) < 0)
        return -ENOMEM;
    if (k.memfd >= 0 && zc__collect_adopt(p, w, k.memfd) < 0)
        zc_log(ZC_LOG_WARN, NS,
               "worker %llu: its metrics registry could "
               "not be mapped again; its samples are left out",
               (unsigned long long) w->id);
    if (k.state == W_READY) {
        zc__worker_set_state(p, w, W_READY);
    } else {
        /* Its ready timer or policy again, from its own start. */
        zc__worker_ready_policy(p, w);
    }
    return 0;
}

static int read_pipe(struct zc_primary *p, const struct zc__state_rec *sec)
{
    struct zc__output_pipe d = { .fd = -1 };
    struct zc__state_r r;
    struct zc__state_rec rec;
    struct worker *w = NULL;

    zc__state_enter(&r, sec);
    while (zc__state_next(&r, &rec) == 1)
        switch (rec.tag) {
        case P_FD: d.fd = fd_of(&rec); break;
        case P_ERR: d.err = u64_of(&rec) != 0; break;
        case P_SLOT: d.slot = (unsigned) u64_of(&rec); break;
        case P_ID: d.id = u64_of(&rec); break;
        case P_GEN: d.gen = u64_of(&rec); break;
        case P_PID: d.pid = (pid_t) u64_of(&rec); break;
        case P_WORKER: d.has_worker = u64_of(&rec) != 0; break;
        case P_HELD:
            d.held = (const char *) rec.value;
            d.n_held = rec.len;
            break;
        case P_PART: d.part = (unsigned) u64_of(&rec); break;
        default: break;
        }
    if (d.fd < 0)
        return -EINVAL;
    for (struct worker *k = p->workers; d.has_worker && k; k = k->next)
        if (k->id == d.id)
            w = k;
    if (w && w->out[d.err]) {
        (void) close(d.fd);
        return -EINVAL;
    }
    return zc__output_adopt(p, w, &d);
}

static int read_base(struct zc_primary *p, const struct zc__state_rec *sec)
{
    struct zc__mbase b = { .name = NULL };
    struct zc__state_r r;
    struct zc__state_rec rec;
    char name[256], help[1024];
    uint64_t flags = 0;
    double *bounds = NULL;
    int err;

    if (!p->metrics)
        return 0; /* no endpoint: nothing to add them to */
    zc__state_enter(&r, sec);
    while (zc__state_next(&r, &rec) == 1)
        switch (rec.tag) {
        case M_NAME:
            if (zc__state_get_text(&rec, name, sizeof(name)) == 0)
                b.name = name;
            break;
        case M_HELP:
            if (zc__state_get_text(&rec, help, sizeof(help)) == 0)
                b.help = help;
            break;
        case M_TYPE: b.type = (int) u64_of(&rec); break;
        case M_FLAGS: flags = u64_of(&rec); break;
        case M_BOUNDS:
            if (rec.len % sizeof(double) || bounds ||
                !(bounds = malloc(rec.len + 1)))
                return -EINVAL;
            memcpy(bounds, rec.value, rec.len);
            b.n_buckets = (uint32_t) (rec.len / sizeof(double));
            break;
        case M_KEY:
            b.key = (const char *) rec.value;
            b.key_len = rec.len;
            break;
        case M_BASE:
            if (rec.len == sizeof(double))
                memcpy(&b.base, rec.value, sizeof(double));
            break;
        default: break;
        }
    b.flags = (uint32_t) flags;
    b.has_bounds = flags >> 32 & 1;
    b.bounds = bounds;
    err = b.name && b.key ? zc__mset_add_base(p->metrics->set, &b) : -EINVAL;
    free(bounds);
    /* A series the set refuses (its limit) is said and left out: the
     * fleet goes on, as it does for a worker's series past the limit. */
    return err == -ENOSPC ? 0 : err;
}

/* A socket bound for Node workers, as they asked for it. */
static int read_node_server(struct zc_primary *p,
                            const struct zc__state_rec *sec)
{
    char want[160] = "", text[ZC__ADDR_TEXT_MAX] = "";
    struct zc__state_r r;
    struct zc__state_rec rec;
    int fd = -1;

    zc__state_enter(&r, sec);
    while (zc__state_next(&r, &rec) == 1)
        if (rec.tag == N_WANT)
            (void) zc__state_get_text(&rec, want, sizeof(want));
        else if (rec.tag == N_TEXT)
            (void) zc__state_get_text(&rec, text, sizeof(text));
        else if (rec.tag == N_FD)
            fd = fd_of(&rec);
    return fd < 0 ? -EINVAL : zc__node_take_server(p, want, text, fd);
}

/* A connection that waited in the router: back where it waited. */
static int read_conn(struct zc_primary *p, const struct zc__state_rec *sec)
{
    struct conn c = { .fd = -1 };
    struct zc__state_r r;
    struct zc__state_rec rec;
    uint64_t slot = 0;

    zc__state_enter(&r, sec);
    while (zc__state_next(&r, &rec) == 1)
        switch (rec.tag) {
        case C_SLOT: slot = u64_of(&rec); break;
        case C_FD: c.fd = fd_of(&rec); break;
        case C_LISTENER: c.listener = (unsigned) u64_of(&rec); break;
        case C_HOME: c.home = (unsigned) u64_of(&rec); break;
        case C_SINCE_US: c.since_us = u64_of(&rec); break;
        case C_CLIENT_PORT: c.client_port = (unsigned) u64_of(&rec); break;
        case C_SERVER_PORT: c.server_port = (unsigned) u64_of(&rec); break;
        case C_PROXIED: c.proxied = u64_of(&rec) != 0; break;
        case C_CLIENT:
            (void) zc__state_get_text(&rec, c.client, sizeof(c.client));
            break;
        case C_SERVER:
            (void) zc__state_get_text(&rec, c.server, sizeof(c.server));
            break;
        default: break;
        }
    if (c.fd < 0)
        return -EINVAL;
    if (slot > ZC_MAX_WORKERS || c.listener >= p->n_listeners ||
        c.home >= ZC_MAX_WORKERS || !p->router || !p->router_state) {
        (void) close(c.fd);
        return -EINVAL;
    }
    return p->router->take_conn(p, (int) slot - 1, &c);
}

/* The recent lines, in their order, for `zclusterctl logs`. */
static void keep_recent(struct zc_primary *p, const struct carry_in *in)
{
    struct zc__state_r r;
    struct zc__state_rec rec;
    uint32_t version, slot;
    char why[8];

    if (zc__state_open_read(&r, in->data, in->len, &version, why, sizeof(why)) <
        0)
        return;
    while (zc__state_next(&r, &rec) == 1)
        if (rec.tag == F_RECENT && rec.len >= 4) {
            memcpy(&slot, rec.value, 4);
            zc__output_keep_recent(p, slot, (const char *) rec.value + 4,
                                   rec.len - 4);
        }
}

int zc__carry_read_workers(struct zc_primary *p, const struct carry_in *in,
                           char *why, size_t size)
{
    static const uint16_t order[] = { F_SLOT,  F_WORKER, F_PIPE,
                                      F_MBASE, F_CONN,   F_NODE_SERVER };
    struct zc__state_r r;
    struct zc__state_rec rec;
    uint32_t version;
    int err = 0;

    /* Slots before workers before pipes: each finds what it belongs to. */
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]) && !err; i++) {
        if (zc__state_open_read(&r, in->data, in->len, &version, why, size) < 0)
            return -EINVAL;
        while (!err && zc__state_next(&r, &rec) == 1) {
            if (rec.tag != order[i])
                continue;
            err = i == 0   ? read_slot(p, &rec)
                  : i == 1 ? read_worker(p, &rec)
                  : i == 2 ? read_pipe(p, &rec)
                  : i == 3 ? read_base(p, &rec)
                  : i == 4 ? read_conn(p, &rec)
                           : read_node_server(p, &rec);
        }
    }
    if (err == -ENOMEM)
        return bad(why, size, "no memory for the workers");
    if (err < 0)
        return bad(why, size,
                   "a slot, worker, pipe, metrics or connection "
                   "record");
    keep_recent(p, in);
    if (p->router && p->router_state) {
        p->router->take_counts(p, in->router_counts, in->n_router_counts);
        if (in->has_accept_counts)
            zc__accept_take_stats(p->router_acc,
                                  &(struct zc__accept_stats) {
                                      .accept_pauses = in->accept_counts[0],
                                      .closed_proxy = in->accept_counts[1] });
    }
    if (p->metrics && in->n_ipc_gone == 2) {
        p->metrics->ipc_sent_gone = in->ipc_gone[0];
        p->metrics->ipc_received_gone = in->ipc_gone[1];
    }
    return 0;
}

/* Whether a record of the section sec (0: the fleet's) names an fd. */
static bool names_fd(uint16_t sec, uint16_t tag)
{
    switch (sec) {
    case 0:
        return tag == F_EXE_FD || tag == F_NOTIFY_FD || tag == F_CONTROL_FD ||
               tag == F_CONTROL_LOCK || tag == F_METRICS_FD;
    case F_LISTENER:
        return tag == L_FD || tag == L_GROUP_FD || tag == L_RR_PROG ||
               tag == L_RR_SOCKS || tag == L_RR_STATE || tag == L_RR_COUNTS;
    case F_WORKER: return tag == W_IPC_FD || tag == W_MEMFD;
    case F_PIPE: return tag == P_FD;
    case F_CONN: return tag == C_FD;
    case F_NODE_SERVER: return tag == N_FD;
    default: return false;
    }
}

void zc__carry_each_fd(const void *data, size_t len,
                       void (*fn)(int fd, void *arg), void *arg)
{
    struct zc__state_r r, in;
    struct zc__state_rec rec, sub;
    uint32_t version;
    char why[8];
    int fd;

    if (zc__state_open_read(&r, data, len, &version, why, sizeof(why)) < 0)
        return;
    while (zc__state_next(&r, &rec) == 1) {
        if (!(rec.tag & SEC)) {
            if (names_fd(0, rec.tag) && (fd = fd_of(&rec)) >= 0)
                fn(fd, arg);
            continue;
        }
        zc__state_enter(&in, &rec);
        while (zc__state_next(&in, &sub) == 1)
            if (names_fd(rec.tag, sub.tag) && (fd = fd_of(&sub)) >= 0)
                fn(fd, arg);
    }
}

void zc__carry_free(struct carried *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_listen; i++)
        free(c->listen[i].group);
    free(c->live);
    free(c);
}
