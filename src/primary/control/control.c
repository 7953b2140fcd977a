/*
 * The control socket: HTTP/1.1 over a unix socket, served by http.c in
 * the primary's own loop (docs/control.md). Who may use it is decided per
 * connection from SO_PEERCRED; what a request asks is read by
 * proto/ctlreq.c; it is done through the same calls signals use (walk.c,
 * scale.c, shutdown.c), so a reload asked for here obeys SIGHUP's rules.
 *
 * A long operation answers with a stream of JSON lines: the fleet's events
 * while it runs (the hooks events.c and walk.c call), then one line with
 * its outcome.
 * A client that stops reading is cut off by http.c; the operation goes on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/compat.h"
#include "base/list.h"
#include "base/log.h"
#include "primary/control/control.h"
#include "primary/control/ctlsock.h"
#include "primary/control/endpoint.h"
#include "primary/control/http.h"
#include "primary/control/reply.h"
#include "primary/control/status.h"
#include "primary/control/upgradectl.h"
#include "primary/core/output.h"
#include "primary/core/words.h"
#include "primary/life/reconfig.h"
#include "primary/life/scale.h"
#include "primary/life/shutdown.h"
#include "primary/life/walk.h"
#include "primary/life/worker.h"
#include "proto/ctlreq.h"

#define NS "zc:control"
#define LINES "application/x-ndjson"
#define MAX_CLIENTS 32
#define REQUEST_MS 5000         /* to send a whole request */
#define STREAM_MAX (256 * 1024) /* unread by a client, then it is cut off */
#define REFUSAL_LOG_US 1000000  /* one refusal line a second at most */

struct waiter {
    struct waiter *prev, *next;
    struct zc__http_req *r;
    enum zc__ctl_verb verb;
    uint64_t target;        /* reload: generation; restart: serial; scale: N */
    bool over;              /* the outcome line is out */
    struct zc__ctl_req *logs; /* logs -f: which slots it follows */
};

struct zc__control {
    struct zc_primary *p;
    struct zc__http *http;
    struct zc__ctlsock sock;        /* its file: path, group (ctlsock.c) */
    struct waiter *waiters;
    struct zc__timer check;         /* scale waiters, after events settle */
    uint64_t refusal_log_us;
    unsigned refusals_unsaid;
};

/* One line of a stream: {"event": EVENT, ..., "message": MSG}. extra is
 * more fields, each with its leading ", ". */
static void line(struct waiter *w, const char *event, const char *extra,
                 const char *msg)
{
    struct zc__buf b = { 0 };

    if (w->over)
        return;
    zc__buf_printf(&b, "{\"event\": \"%s\"%s, \"message\": ", event, extra);
    zc__buf_json(&b, msg);
    ZC__BUF_LIT(&b, "}\n");
    if (!b.failed)
        (void) zc__http_write(w->r, b.data, b.len);
    free(b.data);
}

static void finish(struct waiter *w, bool ok, const char *outcome,
                   const char *msg)
{
    char extra[96];

    snprintf(extra, sizeof(extra), ", \"ok\": %s, \"outcome\": \"%s\"",
             ok ? "true" : "false", outcome);
    line(w, "outcome", extra, msg);
    w->over = true;
    zc__http_end(w->r);
}

/* The worker events a stream shows, in its words; NULL: not shown. */
static const char *worker_event_name(int type)
{
    switch (type) {
    case ZC_EVENT_SPAWNED: return "spawned";
    case ZC_EVENT_READY: return "ready";
    case ZC_EVENT_EXITED: return "exited";
    case ZC_EVENT_RESPAWN: return "respawn";
    default: return NULL;
    }
}

/* --- events, while operations run --- */

static void worker_line(struct waiter *w, const zc_event *e)
{
    char extra[160], msg[256], how[160];

    snprintf(extra, sizeof(extra), ", \"slot\": %d, \"worker\": %llu, "
             "\"pid\": %d, \"generation\": %llu", e->slot,
             (unsigned long long) e->worker_id, e->pid,
             (unsigned long long) e->generation);
    switch (e->type) {
    case ZC_EVENT_SPAWNED:
        snprintf(msg, sizeof(msg), "slot %d: worker %llu started (pid %d, "
                 "generation %llu)", e->slot, (unsigned long long) e->worker_id,
                 e->pid, (unsigned long long) e->generation);
        break;
    case ZC_EVENT_READY:
        snprintf(msg, sizeof(msg), "slot %d: worker %llu ready", e->slot,
                 (unsigned long long) e->worker_id);
        break;
    case ZC_EVENT_EXITED:
        zc__worker_describe_exit(e->status, how, sizeof(how));
        snprintf(msg, sizeof(msg), "slot %d: worker %llu (pid %d) %s",
                 e->slot, (unsigned long long) e->worker_id, e->pid, how);
        break;
    default:    /* ZC_EVENT_RESPAWN */
        snprintf(msg, sizeof(msg), "slot %d: its worker failed; a new one in "
                 "%llu ms", e->slot, (unsigned long long) e->delay_ms);
        break;
    }
    line(w, worker_event_name(e->type), extra, msg);
}

static void on_walk_end(struct waiter *w, const struct walk_end *end)
{
    const char *outcome = zc__outcome_name(end->outcome);
    bool ok = end->outcome == ZC_RELOAD_DONE;
    char msg[512];

    if (w->verb == ZC__CTL_RESTART && end->kind == WALK_RESTART &&
        end->serial == w->target) {
        finish(w, ok, outcome, end->why);
        return;
    }
    if (w->verb != ZC__CTL_RELOAD || end->kind != WALK_RELOAD)
        return;
    if (end->generation == w->target) {
        finish(w, ok, outcome, end->why);
    } else if (end->generation < w->target && !ok) {
        /* SIGHUP's rule: the reload asked for during a failed one is
         * dropped with it. */
        snprintf(msg, sizeof(msg), "the reload asked for did not run: the "
                 "one under way when it was asked ended first: %s", end->why);
        finish(w, false, outcome, msg);
    }
}

void zc__control_walk_ended(struct zc_primary *p, const struct walk_end *end)
{
    struct zc__control *ctl = p->control;

    if (!ctl)
        return;
    for (struct waiter *w = ctl->waiters; w; w = w->next)
        if (!w->over && w->verb != ZC__CTL_STOP && !w->logs)
            on_walk_end(w, end);
}

void zc__control_event(struct zc_primary *p, const zc_event *e)
{
    struct zc__control *ctl = p->control;

    if (!ctl || !worker_event_name(e->type))
        return;
    for (struct waiter *w = ctl->waiters; w; w = w->next) {
        if (w->over || w->verb == ZC__CTL_STOP || w->logs)
            continue;
        worker_line(w, e);
        if (w->verb == ZC__CTL_SCALE && e->type == ZC_EVENT_RESPAWN &&
            !w->over) {
            char msg[160];

            snprintf(msg, sizeof(msg), "slot %d lost its worker: the fleet "
                     "cannot have %llu ready workers now (the slot respawns "
                     "in %llu ms)", e->slot, (unsigned long long) w->target,
                     (unsigned long long) e->delay_ms);
            finish(w, false, "failed", msg);
        }
    }
    /* A scale's end is a state (so many ready, the others gone), seen
     * once the batch of events that led to it is handled: only when a
     * scale waits, so a fleet's own spawns and exits cost nothing here. */
    for (struct waiter *w = ctl->waiters; w; w = w->next)
            if (w->verb == ZC__CTL_SCALE && !w->over) {
                (void) zc__timer_start(&p->loop, &ctl->check, zc__now_us());
                break;
            }
    /* Stop waiters hear of the exits, which are the stop's steps. */
    if (e->type == ZC_EVENT_EXITED)
        for (struct waiter *w = ctl->waiters; w; w = w->next)
            if (w->verb == ZC__CTL_STOP)
                worker_line(w, e);
}

/* Whether a scale waiter's fleet is there: 1 yes, 0 not yet, -1 never. */
static int scale_reached(const struct zc_primary *p, const struct waiter *w,
                         char *msg, size_t size)
{
    if (p->shutting_down) {
        snprintf(msg, size, "the fleet is shutting down");
        return -1;
    }
    if (p->n_slots != w->target) {
        snprintf(msg, size, "the fleet was scaled to %u worker%s meanwhile",
                 p->n_slots, PLURAL(p->n_slots));
        return -1;
    }
    if (p->n_ready != w->target || p->n_alive != w->target)
        return 0;
    snprintf(msg, size, "%llu of %llu workers ready",
             (unsigned long long) w->target, (unsigned long long) w->target);
    return 1;
}

static void on_check(struct zc__loop *l, struct zc__timer *t)
{
    struct zc__control *ctl = zc__container_of(t, struct zc__control, check);
    char msg[160];

    (void) l;
    for (struct waiter *w = ctl->waiters; w; w = w->next) {
        int r;

        if (w->over || w->verb != ZC__CTL_SCALE)
            continue;
        r = scale_reached(ctl->p, w, msg, sizeof(msg));
        if (r)
            finish(w, r > 0, r > 0 ? "done" : "failed", msg);
    }
}

/* --- requests --- */

struct args {
    struct zc__ctl_arg v[ZC__CTL_MAX_ARGS + 1];
    size_t n;
};

static void add_arg(const char *key, const char *value, void *ud)
{
    struct args *a = ud;

    if (a->n < ZC__CTL_MAX_ARGS + 1)
        a->v[a->n] = (struct zc__ctl_arg) { key, value };
    a->n++;
}

/* root, our own uid, and the control group. Refusals are logged, at most
 * one line a second. */
static bool allowed(struct zc__control *ctl, struct zc__http_req *r,
                    char *who, size_t size)
{
    uint64_t now = zc__now_us();
    pid_t pid;
    uid_t uid;
    gid_t gid;

    if (!zc__http_peer(r, &pid, &uid, &gid)) {
        snprintf(who, size, "a client with no credentials");
    } else {
        snprintf(who, size, "uid %lu (pid %ld)", (unsigned long) uid,
                 (long) pid);
        if (uid == 0 || uid == geteuid() ||
            (ctl->sock.has_group && zc__http_peer_in_group(r, ctl->sock.group)))
            return true;
    }
    if (now - ctl->refusal_log_us >= REFUSAL_LOG_US || !ctl->refusal_log_us) {
        char more[64] = "";

        if (ctl->refusals_unsaid)
            snprintf(more, sizeof(more), " (and %u more since the last "
                     "line)", ctl->refusals_unsaid);
        zc_log(ZC_LOG_WARN, NS, "refused a control request from %s: only "
               "root, uid %lu%s may control this fleet%s", who,
               (unsigned long) geteuid(), ctl->sock.has_group
               ? " and members of the control group" : "", more);
        ctl->refusal_log_us = now;
        ctl->refusals_unsaid = 0;
    } else {
        ctl->refusals_unsaid++;
    }
    return false;
}

static struct waiter *stream(struct zc__control *ctl, struct zc__http_req *r,
                             enum zc__ctl_verb verb, uint64_t target)
{
    struct waiter *w = calloc(1, sizeof(*w));

    if (!w) {
        zc__reply_error(r, 500, "out of memory", NULL);
        return NULL;
    }
    *w = (struct waiter) { .r = r, .verb = verb, .target = target };
    ZC__LIST_PUSH(ctl->waiters, w);
    zc__http_set_data(r, w);
    zc__http_stream(r, 200, LINES);
    return w;
}

static bool slots_exist(struct zc_primary *p, const struct zc__ctl_req *q,
                        struct zc__http_req *r)
{
    char why[128];

    for (unsigned i = p->n_slots; i < ZC_MAX_WORKERS; i++)
        if (zc__ctl_has_slot(q, i)) {
            snprintf(why, sizeof(why), "no slot %u: the fleet has %u slot%s "
                     "(0 to %u)", i, p->n_slots, PLURAL(p->n_slots),
                     p->n_slots - 1);
            zc__reply_error(r, 400, why, NULL);
            return false;
        }
    return true;
}

/*
 * Each operation's stream is open before it starts, so the client sees
 * every step, the first spawn included; what can refuse it is checked
 * before.
 */
static void do_reload(struct zc__control *ctl, struct zc__http_req *r,
                      const struct zc__ctl_req *q, const char *by)
{
    struct zc_primary *p = ctl->p;
    struct walk_snapshot R;
    uint64_t target;
    struct waiter *w = NULL;
    char msg[200], extra[48], why[512];

    zc__walk_snapshot(p, &R);
    target = R.active && R.kind == WALK_RELOAD ? R.generation + 1
                                               : p->generation + 1;

    if (p->shutting_down || p->lame_duck) {
        zc__reply_error(r, 409, "the fleet is shutting down", NULL);
        return;
    }
    /* The file is read and checked before anything is said or done. */
    if (zc__reconfig_prepare(p, NULL, why, sizeof(why)) < 0) {
        zc_log(ZC_LOG_ERROR, NS,
               "%s: reload refused, the fleet runs on as "
               "it was: %s",
               by, why);
        zc__reply_error(r, 422, why, NULL);
        return;
    }
    if (R.active)
        snprintf(msg, sizeof(msg), "the %s is under way: a reload to "
                 "generation %llu follows it when it succeeds", R.name,
                 (unsigned long long) target);
    else
        snprintf(msg, sizeof(msg), "reload to generation %llu started: %u "
                 "slot%s, %u at a time", (unsigned long long) target,
                 p->n_slots, PLURAL(p->n_slots), p->opt.max_surge);
    if (!q->wait) {
        zc__reply_accepted(r, msg);
    } else if ((w = stream(ctl, r, ZC__CTL_RELOAD, target))) {
        snprintf(extra, sizeof(extra), ", \"generation\": %llu",
                 (unsigned long long) target);
        line(w, "started", extra, msg);
    }
    (void) zc__reconfig_reload(p, by);
}

static void do_scale(struct zc__control *ctl, struct zc__http_req *r,
                     const struct zc__ctl_req *q, const char *by)
{
    struct zc_primary *p = ctl->p;
    int n = zc__ctl_scale_target(q, p->n_slots), rc;
    struct waiter *w = NULL;
    char msg[160];

    if (n < 0) {
        snprintf(msg, sizeof(msg), "the fleet has %u worker%s: scaling by "
                 "%s%u would leave it outside 1 to %d", p->n_slots,
                 PLURAL(p->n_slots),
                 q->scale_by < 0 ? "-" : "+", q->scale_n, ZC_MAX_WORKERS);
        zc__reply_error(r, 400, msg, NULL);
        return;
    }
    if (p->shutting_down || p->lame_duck) {
        zc__reply_error(r, 409, "the fleet is shutting down", NULL);
        return;
    }
    snprintf(msg, sizeof(msg), "scaling from %u to %d worker%s", p->n_slots,
             n, PLURAL(n));
    if (!q->wait)
        zc__reply_accepted(r, msg);
    else if ((w = stream(ctl, r, ZC__CTL_SCALE, (unsigned) n)))
        line(w, "started", "", msg);
    rc = zc__scale_to(p, (unsigned) n, by);
    if (rc < 0 && w) {
        snprintf(msg, sizeof(msg), "cannot scale: %s", zc_strerror(rc));
        finish(w, false, "failed", msg);
    }
    (void) zc__timer_start(&p->loop, &ctl->check, zc__now_us());
}

static void do_restart(struct zc__control *ctl, struct zc__http_req *r,
                       const struct zc__ctl_req *q, const char *by)
{
    struct zc_primary *p = ctl->p;
    struct walk_snapshot R;
    struct waiter *w = NULL;
    char msg[160], which[48];

    if (!slots_exist(p, q, r))
        return;
    if (p->shutting_down || p->lame_duck) {
        zc__reply_error(r, 409, "the fleet is shutting down", NULL);
        return;
    }
    zc__walk_snapshot(p, &R);
    if (R.active) {
        snprintf(msg, sizeof(msg), "a %s is under way: restart slots after "
                 "it ends", R.name);
        zc__reply_error(r, 409, msg, NULL);
        return;
    }
    zc__ctl_slots_text(q->slots, which, sizeof(which));
    snprintf(msg, sizeof(msg), "restart of %s started, %u at a time", which,
             p->opt.max_surge);
    if (!q->wait)
        zc__reply_accepted(r, msg);
    else if ((w = stream(ctl, r, ZC__CTL_RESTART, p->walks + 1)))
        line(w, "started", "", msg);
    (void) zc__walk_start(p, WALK_RESTART, q->slots, by);
}

static void signal_worker(struct zc__buf *b, struct worker *w, int sig,
                          unsigned *n)
{
    if (!w || w->pid <= 0)
        return;
    zc__worker_signal(w, sig);
    zc__buf_printf(b, "%s{\"slot\": %u, \"worker\": %llu, \"pid\": %d}",
                   (*n)++ ? ", " : "", w->slot_index,
                   (unsigned long long) w->id, (int) w->pid);
}

static void do_signal(struct zc__control *ctl, struct zc__http_req *r,
                      const struct zc__ctl_req *q, const char *by)
{
    struct zc_primary *p = ctl->p;
    const char *name = zc__signal_name(q->signal);
    struct zc__buf b = { 0 };
    char sig[24], msg[128];
    unsigned n = 0;

    if (q->n_slots && !slots_exist(p, q, r))
        return;
    if (name)
        snprintf(sig, sizeof(sig), "SIG%s", name);
    else
        snprintf(sig, sizeof(sig), "signal %d", q->signal);
    zc__buf_printf(&b, "{\"version\": %d, \"signal\": %d, \"workers\": [",
                   ZC__CONTROL_VERSION, q->signal);
    if (q->n_slots) {
        for (unsigned i = 0; i < p->n_slots; i++)
            if (zc__ctl_has_slot(q, i)) {
                signal_worker(&b, p->slots[i]->w, q->signal, &n);
                signal_worker(&b, p->slots[i]->next, q->signal, &n);
            }
    } else {
        for (struct worker *w = p->workers; w; w = w->next)
            signal_worker(&b, w, q->signal, &n);
    }
    snprintf(msg, sizeof(msg), "sent %s to %u worker%s", sig, n, PLURAL(n));
    zc_log(ZC_LOG_INFO, NS, "%s: %s", by, msg);
    ZC__BUF_LIT(&b, "], \"message\": ");
    zc__buf_json(&b, n ? msg : "no worker to signal: the slots named have "
                 "none running");
    ZC__BUF_LIT(&b, "}\n");
    zc__reply_json(r, n ? 200 : 409, &b);
}

static void do_stop(struct zc__control *ctl, struct zc__http_req *r,
                    const struct zc__ctl_req *q, const char *by)
{
    struct zc_primary *p = ctl->p;
    char msg[192], extra[32];
    struct waiter *w;

    if (p->shutting_down) {
        zc__reply_error(r, 409, "the fleet is already stopping", NULL);
        return;
    }
    zc__shutdown_plan(p, msg, sizeof(msg));
    w = q->wait ? stream(ctl, r, ZC__CTL_STOP, 0) : NULL;
    if (w) {
        snprintf(extra, sizeof(extra), ", \"pid\": %d", (int) getpid());
        line(w, "stopping", extra, msg);
    } else if (!q->wait) {
        zc__reply_accepted(r, msg);
    }
    zc__shutdown_request(p, by);
}

struct recent {
    const struct zc__ctl_req *q;
    struct zc__buf b;
};

static bool follows(const struct zc__ctl_req *q, unsigned slot)
{
    return !q->n_slots || zc__ctl_has_slot(q, slot);
}

static int wants_slot(void *arg, unsigned slot)
{
    return follows(((struct recent *) arg)->q, slot);
}

static void add_line(void *arg, const char *s, size_t n)
{
    zc__buf_add(&((struct recent *) arg)->b, s, n);
}

/* The last lines of the slots asked for (any slot may be named: one
 * scaled away still has lines, one to come will), then, following, every
 * new one as it is written. */
static void do_logs(struct zc__control *ctl, struct zc__http_req *r,
                    const struct zc__ctl_req *q)
{
    struct recent rec = { .q = q };
    struct zc__buf *b = &rec.b;
    struct waiter *w;

    if (strcmp(zc__output_mode(ctl->p), "inherit") == 0) {
        zc__reply_error(r, 409,
                        "this fleet's workers write to the primary's own "
                        "stdout and stderr (--output inherit): it keeps none "
                        "of "
                        "their lines",
                        NULL);
        return;
    }
    if (q->follow && !zc__http_may_wait(r)) {
        zc__reply_error(r, 503,
                        "too many clients follow or wait on this fleet: "
                        "try again, or leave out follow",
                        NULL);
        return;
    }
    zc__output_recent(ctl->p, q->lines, wants_slot, add_line, &rec);
    if (b->failed) {
        free(b->data);
        zc__reply_error(r, 500, "out of memory", NULL);
        return;
    }
    if (!q->follow) {
        zc__http_reply(r, 200, "text/plain; charset=utf-8", b->data, b->len,
                       NULL);
        return;
    }
    w = stream(ctl, r, ZC__CTL_LOGS, 0);
    if (w && !(w->logs = malloc(sizeof(*q)))) {
        w->over = true;
        zc__http_end(r);
    } else if (w) {
        *w->logs = *q;
        if (b->len)
            (void) zc__http_write(r, b->data, b->len);
    }
    free(b->data);
}

void zc__control_output_line(struct zc_primary *p, unsigned slot, const char *s,
                             size_t n)
{
    struct zc__control *ctl = p->control;

    for (struct waiter *w = ctl ? ctl->waiters : NULL; w; w = w->next)
        if (w->logs && !w->over && follows(w->logs, slot))
            (void) zc__http_write(w->r, s, n);
}

static void on_request(void *ud, struct zc__http_req *r)
{
    struct zc__control *ctl = ud;
    struct zc_primary *p = ctl->p;
    struct zc__ctl_req q;
    struct zc__buf b = { 0 };
    struct args a = { .n = 0 };
    char who[64], why[256], by[96];
    const char *allow;
    enum zc__ctl_verdict verdict;

    if (!allowed(ctl, r, who, sizeof(who))) {
        snprintf(why, sizeof(why), "permission denied: %s may not control "
                 "this fleet", who);
        zc__reply_error(r, 403, why, NULL);
        return;
    }
    (void) zc__http_args(r, add_arg, &a);
    verdict = zc__ctl_parse(&q, zc__http_method(r), zc__http_path(r), a.v,
                            a.n, why, sizeof(why), &allow);
    if (verdict != ZC__CTL_TAKEN) {
        zc__reply_error(r, (unsigned) verdict, why, allow);
        return;
    }
    snprintf(by, sizeof(by), "control request from %s", who);
    /* Every connection holds a request being answered: this one came in
     * on the reserved lane, where only what is answered at once is. */
    if (q.wait && !zc__http_may_wait(r) &&
        (q.verb == ZC__CTL_RELOAD || q.verb == ZC__CTL_SCALE ||
         q.verb == ZC__CTL_RESTART || q.verb == ZC__CTL_STOP)) {
        snprintf(why, sizeof(why), "%d clients are waiting on this fleet's "
                 "control socket: try again, or do it with --no-wait",
                 MAX_CLIENTS);
        zc__reply_error(r, 503, why, NULL);
        return;
    }
    switch (q.verb) {
    case ZC__CTL_STATUS:
        if (q.text) {
            zc__status_text(p, ctl->sock.path, q.color, &b);
            if (!b.failed) {
                zc__http_reply(r, 200, "text/plain; charset=utf-8", b.data,
                               b.len, NULL);
                return;
            }
        } else {
            zc__status_json(p, ctl->sock.path, &b);
        }
        zc__reply_json(r, 200, &b);
        break;
    case ZC__CTL_METRICS:
        zc__endpoint_render(p, &b);
        if (b.failed) {
            free(b.data);
            zc__reply_error(r, 500, "out of memory", NULL);
            return;
        }
        zc__http_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8",
                       b.data, b.len, NULL);
        break;
    case ZC__CTL_RELOAD:
        do_reload(ctl, r, &q, by);
        break;
    case ZC__CTL_SCALE:
        do_scale(ctl, r, &q, by);
        break;
    case ZC__CTL_RESTART:
        do_restart(ctl, r, &q, by);
        break;
    case ZC__CTL_SIGNAL:
        do_signal(ctl, r, &q, by);
        break;
    case ZC__CTL_STOP:
        do_stop(ctl, r, &q, by);
        break;
    case ZC__CTL_LOGS: do_logs(ctl, r, &q); break;
    case ZC__CTL_UPGRADE: zc__upgradectl_request(p, r, &q, by); break;
    case ZC__CTL_UPGRADE_STATUS: zc__upgradectl_status(p, r); break;
    case ZC__CTL_CONFIG:
        zc__status_config(p, &b);
        if (b.failed) {
            free(b.data);
            zc__reply_error(r, 500, "out of memory", NULL);
            return;
        }
        zc__http_reply(r, 200, "text/plain; charset=utf-8", b.data, b.len,
                       NULL);
        break;
    }
}

/* The client left, was cut off, or its stream ended. */
static void on_done(void *ud, struct zc__http_req *r)
{
    struct zc__control *ctl = ud;
    struct waiter *w = zc__http_data(r);

    if (!w)
        return;
    ZC__LIST_REMOVE(ctl->waiters, w);
    free(w->logs);
    free(w);
}

int zc__control_start(struct zc_primary *p)
{
    const struct zc__http_limits lim = { .timeout_ms = REQUEST_MS,
        .max_conns = MAX_CLIENTS, .stream_max = STREAM_MAX };
    const struct zc__http_cb cb = { on_request, on_done, NULL };
    struct zc__control *ctl;
    struct zc__http_cb c = cb;
    int fd = -1, r;

    if (p->opt.control && strcmp(p->opt.control, "none") == 0)
        return 0;
    ctl = calloc(1, sizeof(*ctl));
    if (!ctl)
        return -ENOMEM;
    ctl->p = p;
    zc__timer_init(&ctl->check, on_check);
    r = zc__ctlsock_open(p, &ctl->sock, MAX_CLIENTS, &fd);
    if (r != 0) {
        free(ctl);
        return r < 0 ? r : 0;
    }
    c.ud = ctl;
    r = zc__http_start(&ctl->http, &p->loop, fd, &lim, &c);
    if (r < 0) {
        zc_log(ZC_LOG_WARN, NS, "no control socket: %s", zc_strerror(r));
        zc__ctlsock_remove(&ctl->sock);
        free(ctl);
        return 0;
    }
    p->control = ctl;
    zc_log(ZC_LOG_INFO, NS, "control socket %s (fleet %s, mode %s)",
           ctl->sock.path, p->name, ctl->sock.has_group ? "0660" : "0600");
    return 0;
}

bool zc__control_handover(const struct zc_primary *p, int *fd, int *lock,
                          const char **path)
{
    const struct zc__control *ctl = p->control;

    if (!ctl)
        return false;
    *fd = zc__http_listen_fd(ctl->http);
    *lock = ctl->sock.lock_fd;
    *path = ctl->sock.path;
    return *fd >= 0;
}

void zc__control_stop(struct zc_primary *p)
{
    struct zc__control *ctl = p->control;
    char msg[96];

    if (!ctl)
        return;
    zc__timer_stop(&p->loop, &ctl->check);
    snprintf(msg, sizeof(msg), "the primary exits with status %d",
             p->exit_status);
    for (struct waiter *w = ctl->waiters; w; w = w->next)
        if (w->logs)
            zc__http_end(w->r); /* a follower: the lines just end */
        else
            finish(w, w->verb == ZC__CTL_STOP,
                   w->verb == ZC__CTL_STOP ? "done" : "interrupted", msg);
    zc__http_stop(ctl->http);
    zc__ctlsock_remove(&ctl->sock);
    while (ctl->waiters) {
        struct waiter *w = ctl->waiters;

        ctl->waiters = w->next;
        free(w->logs);
        free(w);
    }
    free(ctl);
    p->control = NULL;
}
