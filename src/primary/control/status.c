/*
 * A fleet's status: one row per slot (its worker, or what the slot waits
 * for), one per reload replacement still starting, one per worker still
 * draining after it was replaced or scaled away. Both forms are made from
 * the same rows, so the table and the JSON never disagree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/compat.h"
#include "primary/control/status.h"
#include "primary/core/output.h"
#include "primary/core/node.h"
#include "primary/core/sample.h"
#include "primary/core/words.h"
#include "primary/health/health.h"
#include "primary/life/respawn.h"
#include "primary/spread/balance.h"
#include "primary/life/walk.h"
#include "proto/ctlreq.h"

enum role { SERVING, REPLACEMENT, RETIRING };

static const char *const role_names[] = { "serving", "replacement",
                                          "retiring" };

struct row {
    uint64_t now;
    int proc;                   /* /proc, opened once per call */
    unsigned slot;
    enum role role;
    const struct slot *s;       /* NULL for a retiring worker */
    struct worker *w;           /* NULL for a slot with no worker */
    enum slot_view view;
    uint64_t backoff_left_ms;
    bool has_proc;
    unsigned long long cpu_ms;
    long long rss;
};

static void fill(struct row *r, uint64_t now, long page)
{
    uint64_t ns;
    long long pages;

    if (r->w) {
        r->view = zc__worker_view(r->w);
        r->has_proc = zc__sample_worker(r->w, r->proc, now, &ns, &pages);
        if (r->has_proc) {
            r->cpu_ms = ns / 1000000;
            r->rss = pages * page;
        }
        return;
    }
    r->view = zc__slot_view(r->s);
    /* Backing off, or a failed slot's retry: when its next worker comes. */
    if (zc__timer_is_active(&r->s->timer) && r->s->timer.deadline_us > now)
        r->backoff_left_ms = (r->s->timer.deadline_us - now) / 1000;
}

typedef void (*row_fn)(struct zc_primary *p, const struct row *r, void *ud);

/* Every row, in slot order, then the retiring workers, oldest first. */
static void each_row(struct zc_primary *p, row_fn fn, void *ud)
{
    long page = sysconf(_SC_PAGESIZE);
    uint64_t now = zc__now_us();
    struct worker *last = NULL;
    int proc = zc__proc_open();

    for (unsigned i = 0; i < p->n_slots; i++) {
        const struct slot *s = p->slots[i];
        /* Its serving worker (or what the slot waits for), then the
         * replacement a walk is starting, if any. */
        struct worker *const who[] = { s->w, s->next };

        for (int k = 0; k < 2; k++) {
            struct row r = { .now = now,
                             .proc = proc,
                             .slot = i,
                             .s = s,
                             .w = who[k],
                             .role = k ? REPLACEMENT : SERVING };

            if (k && !who[k])
                continue;
            fill(&r, now, page);
            fn(p, &r, ud);
        }
    }
    /* p->workers is newest first; retiring ones are told oldest first. */
    for (struct worker *w = p->workers; w; w = w->next)
        last = w;
    for (struct worker *w = last; w; w = w->prev) {
        struct row r = { .now = now,
                         .proc = proc,
                         .slot = w->slot_index,
                         .role = RETIRING,
                         .w = w };

        if (w->slot && (w->slot->w == w || w->slot->next == w))
            continue;
        fill(&r, now, page);
        fn(p, &r, ud);
    }
    if (proc >= 0)
        (void) close(proc);
}

unsigned zc__status_failed_slots(const struct zc_primary *p)
{
    unsigned n = 0;

    for (unsigned i = 0; i < p->n_slots; i++)
        n += p->slots[i]->state == SLOT_FAILED && !p->slots[i]->w;
    return n;
}

static const char *fleet_state(const struct zc_primary *p)
{
    struct walk_snapshot walk;

    zc__walk_snapshot(p, &walk);
    if (p->shutting_down || p->lame_duck)
        return "stopping";
    if (walk.active)
        return zc__walk_kind_doing(walk.kind);
    if (zc__status_failed_slots(p))
        return "degraded";
    return p->announced_ready ? "running" : "starting";
}

/* When a monotonic time was, on the wall clock: "2026-11-29T20:46:21Z". */
static void wall_time(uint64_t at_us, char *out, size_t size)
{
    time_t t = time(NULL) - (time_t) ((zc__now_us() - at_us) / 1000000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static double seconds_since(uint64_t us)
{
    return (double) (zc__now_us() - us) / 1e6;
}

/* "12.3": tenths of seconds since us, without floating-point printf (a
 * thousand rows go through here per call). */
static void tenths_since(char *out, size_t size, uint64_t us, uint64_t now)
{
    uint64_t t = (now - us) / 100000;

    snprintf(out, size, "%llu.%llu", (unsigned long long) (t / 10),
             (unsigned long long) (t % 10));
}

/* Every listening address: -l ones (and systemd's), then those bound
 * for Node workers' server.listen(). NULL past the end. */
static const char *socket_text(const struct zc_primary *p, size_t i)
{
    if (i < p->n_listeners)
        return p->listeners[i].text;
    return zc__node_server_text(p, i - p->n_listeners);
}

/* Whether socket i spreads as the mode says: under reuseport only those
 * in a group do (unix, handed-in and Node-bound sockets stay shared). */
static bool spread_as_mode(const struct zc_primary *p, size_t i)
{
    return p->opt.balance != ZC_BALANCE_REUSEPORT ||
           (i < p->n_listeners && p->listeners[i].balance.n > 0);
}

/* " a, b (balance reuseport (round-robin)); c (balance shared)". */
static void sockets_line(const struct zc_primary *p, struct zc__buf *b,
                         const char *bal)
{
    unsigned n[2] = { 0, 0 };

    for (int as_mode = 1; as_mode >= 0; as_mode--) {
        for (size_t i = 0; socket_text(p, i); i++) {
            if (spread_as_mode(p, i) != as_mode)
                continue;
            zc__buf_printf(b, "%s %s",
                           n[as_mode]++       ? ","
                           : !as_mode && n[1] ? ";"
                                              : "",
                           socket_text(p, i));
        }
        if (n[as_mode])
            zc__buf_printf(b, " (balance %s)", as_mode ? bal : "shared");
    }
    if (!n[0] && !n[1])
        zc__buf_printf(b, " none (balance %s)", bal);
    ZC__BUF_LIT(b, "\n");
}

/* "reuseport (round-robin)": the mode, and for reuseport how it steers. */
static void balance_text(const struct zc_primary *p, char *out, size_t size)
{
    struct balance_snapshot bal;
    char mode[16];

    (void) zc_option_format(&p->opt, "balance", mode, sizeof(mode));
    zc__balance_snapshot(p, &bal);
    if (p->opt.balance == ZC_BALANCE_REUSEPORT)
        snprintf(out, size, "%s (%s)", mode,
                 bal.round_robin ? "round-robin" : "random");
    else
        snprintf(out, size, "%s", mode);
}

/* An option as the command line takes it, or "off" when it is unset. */
static void limit_text(const struct zc_primary *p, const char *name,
                       bool set, char *out, size_t size)
{
    if (!set || zc_option_format(&p->opt, name, out, size) < 0)
        snprintf(out, size, "off");
}

/* --- JSON --- */

struct json_rows {
    struct zc__buf *b;
    bool first;
};

static void json_row(struct zc_primary *p, const struct row *r, void *ud)
{
    struct json_rows *j = ud;
    struct zc__buf *b = j->b;

    zc__buf_printf(b, "%s\n    {\"slot\": %u, \"role\": \"%s\", \"state\": "
                   "\"%s\"", j->first ? "" : ",", r->slot, role_names[r->role],
                   zc__slot_view_name(r->view));
    j->first = false;
    if (r->w) {
        char up[32];

        tenths_since(up, sizeof(up), r->w->started_us, r->now);
        zc__buf_printf(b, ", \"worker\": %llu, \"pid\": %d, \"generation\": "
                       "%llu, \"uptime_s\": %s",
                       (unsigned long long) r->w->id, (int) r->w->pid,
                       (unsigned long long) r->w->generation, up);
    } else
        zc__buf_printf(b, ", \"worker\": null, \"pid\": null, \"generation\": "
                       "%llu, \"uptime_s\": null",
                       (unsigned long long) r->s->generation);
    if (r->s && r->role == SERVING) {
        uint64_t steered;

        zc__buf_printf(b, ", \"restarts\": %llu, \"failures\": %u",
                       (unsigned long long) r->s->restarts,
                       zc__respawn_failures(p, r->s, r->now));
        /* Only where the eBPF round-robin counts them. */
        if (zc__balance_steered(p, r->slot, &steered))
            zc__buf_printf(b, ", \"connections_steered\": %llu",
                           (unsigned long long) steered);
        if (p->opt.balance == ZC_BALANCE_REUSEPORT)
            zc__buf_printf(b, ", \"steered_around\": %s",
                           zc__slot_out(r->s) ? "true" : "false");
    }
    if (r->s && r->s->state == SLOT_BACKOFF && !r->w)
        zc__buf_printf(b, ", \"backoff_left_ms\": %llu",
                       (unsigned long long) r->backoff_left_ms);
    if (r->s && r->s->state == SLOT_FAILED && r->role == SERVING) {
        if (zc__timer_is_active(&r->s->timer))
            zc__buf_printf(b, ", \"retry_left_ms\": %llu",
                           (unsigned long long) r->backoff_left_ms);
        else
            ZC__BUF_LIT(b, ", \"retry_left_ms\": null");
        ZC__BUF_LIT(b, ", \"last_failures\": [");
        for (unsigned i = 0; zc__health_why(r->s, i); i++) {
            zc__buf_add(b, ", ", i ? 2 : 0);
            zc__buf_json(b, zc__health_why(r->s, i));
        }
        ZC__BUF_LIT(b, "]");
    }
    if (r->has_proc)
        zc__buf_printf(b, ", \"cpu_s\": %llu.%02llu, \"rss_bytes\": %lld",
                       r->cpu_ms / 1000, r->cpu_ms % 1000 / 10, r->rss);
    else
        zc__buf_printf(b, ", \"cpu_s\": null, \"rss_bytes\": null");
    ZC__BUF_LIT(b, ", \"status\": ");
    zc__buf_json(b, r->w ? r->w->status : "");
    ZC__BUF_LIT(b, "}");
}

void zc__status_json(struct zc_primary *p, const char *control,
                     struct zc__buf *b)
{
    struct json_rows rows = { b, true };
    struct health_snapshot h;

    zc__buf_printf(b, "{\n  \"version\": %d,\n  \"fleet\": {\n    \"name\": ",
                   ZC__CONTROL_VERSION);
    zc__buf_json(b, p->name);
    zc__buf_printf(b,
                   ",\n    \"pid\": %d,\n    \"zcluster\": \"%s\",\n"
                   "    \"upgrades\": %llu,\n"
                   "    \"uptime_s\": %.1f,\n    \"state\": \"%s\",\n"
                   "    \"generation\": %llu,\n    \"workers\": {\"wanted\": "
                   "%u, \"ready\": %u, \"processes\": %u},\n    \"command\": [",
                   (int) getpid(), ZC_VERSION,
                   (unsigned long long) p->upgrade.count,
                   seconds_since(p->start_us), fleet_state(p),
                   (unsigned long long) p->running_generation, p->n_slots,
                   p->n_ready, p->n_alive);
    for (size_t i = 0; p->argv[i]; i++) {
        zc__buf_add(b, ", ", i ? 2 : 0);
        zc__buf_json(b, p->argv[i]);
    }
    zc__buf_printf(b, "],\n    \"output\": \"%s\",\n    \"user\": ",
                   zc__output_mode(p));
    if (p->creds.set_uid)
        zc__buf_json(b, p->creds.user);
    else
        ZC__BUF_LIT(b, "null");
    ZC__BUF_LIT(b, ",\n    \"balance\": ");
    {
        char mode[32];

        (void) zc_option_format(&p->opt, "balance", mode, sizeof(mode));
        zc__buf_json(b, mode);
    }
    if (p->opt.balance == ZC_BALANCE_REUSEPORT) {
        struct balance_snapshot bal;

        zc__balance_snapshot(p, &bal);
        zc__buf_printf(b, ", \"steering\": \"%s\", \"steering_counted\": %s",
                       bal.round_robin ? "round-robin" : "random",
                       bal.round_robin ? "true" : "false");
        zc__buf_printf(b,
                       ", \"slots_out\": %u, \"taken_out\": %llu, "
                       "\"all_stuck\": %s",
                       bal.n_out, (unsigned long long) bal.taken_out,
                       bal.all_stuck ? "true" : "false");
    }
    ZC__BUF_LIT(b, ",\n    \"sockets\": [");
    for (size_t i = 0; socket_text(p, i); i++) {
        zc__buf_add(b, ", ", i ? 2 : 0);
        zc__buf_json(b, socket_text(p, i));
    }
    ZC__BUF_LIT(b, "],\n    \"metrics\": ");
    if (p->metrics_addr[0])
        zc__buf_json(b, p->metrics_addr);
    else
        ZC__BUF_LIT(b, "null");
    zc__buf_printf(b, ",\n    \"limits\": {\"watchdog_ms\": %u, "
                   "\"max_memory_bytes\": %llu, \"max_lifetime_ms\": %u, "
                   "\"shutdown_timeout_ms\": %u}", p->opt.watchdog_ms,
                   (unsigned long long) p->opt.max_memory,
                   p->opt.max_lifetime_ms, p->opt.shutdown_timeout_ms);
    zc__health_snapshot(p, &h);
    ZC__BUF_LIT(b, ",\n    \"control\": ");
    zc__buf_json(b, control);
    zc__buf_printf(b,
                   ",\n    \"health\": {\"watchdog_misses\": {\"kill\": "
                   "%llu, \"log\": %llu}, \"recycles\": {\"lifetime\": %llu, "
                   "\"memory\": %llu}, \"give_ups\": %llu, "
                   "\"failed_slots\": %u}",
                   (unsigned long long) h.misses[ZC_WATCHDOG_KILL],
                   (unsigned long long) h.misses[ZC_WATCHDOG_LOG],
                   (unsigned long long) h.recycles[ZC_RECYCLE_LIFETIME],
                   (unsigned long long) h.recycles[ZC_RECYCLE_MEMORY],
                   (unsigned long long) h.give_ups, zc__status_failed_slots(p));
    ZC__BUF_LIT(b, ",\n    \"last_reload\": ");
    if (p->last_reload.generation) {
        char at[32];

        wall_time(p->last_reload.end_us, at, sizeof(at));
        zc__buf_printf(b, "{\"generation\": %llu, \"outcome\": \"%s\", "
                       "\"at\": \"%s\", \"age_s\": %.1f, \"message\": ",
                       (unsigned long long) p->last_reload.generation,
                       zc__outcome_name(p->last_reload.outcome), at,
                       seconds_since(p->last_reload.end_us));
        zc__buf_json(b, p->last_reload.why);
        ZC__BUF_LIT(b, "}");
    } else {
        ZC__BUF_LIT(b, "null");
    }
    ZC__BUF_LIT(b, "\n  },\n  \"workers\": [");
    each_row(p, json_row, &rows);
    ZC__BUF_LIT(b, "\n  ]\n}\n");
}

/* --- the table --- */

/* "45s", "12m03s", "3h05m", "2d04h" */
static void span(char *out, size_t size, double s)
{
    unsigned long long t = (unsigned long long) s;

    if (t < 60)
        snprintf(out, size, "%llus", t);
    else if (t < 3600)
        snprintf(out, size, "%llum%02llus", t / 60, t % 60);
    else if (t < 86400)
        snprintf(out, size, "%lluh%02llum", t / 3600, t / 60 % 60);
    else
        snprintf(out, size, "%llud%02lluh", t / 86400, t / 3600 % 24);
}

/* "812K", "31.4M", "1.2G" */
static void bytes(char *out, size_t size, long long n)
{
    if (n < 1024 * 1024)
        snprintf(out, size, "%lldK", n / 1024);
    else if (n < 1024LL * 1024 * 1024)
        snprintf(out, size, "%.1fM", (double) n / (1024.0 * 1024));
    else
        snprintf(out, size, "%.1fG", (double) n / (1024.0 * 1024 * 1024));
}

struct table {
    struct zc__buf *b;
    bool color;
};

static const char *view_color(enum slot_view v)
{
    switch (v) {
    case VIEW_READY:
        return "\033[32m";
    case VIEW_BACKOFF: case VIEW_STOPPED: case VIEW_FAILED:
        return "\033[31m";
    default:
        return "\033[33m";
    }
}

static void text_row(struct zc_primary *p, const struct row *r, void *ud)
{
    struct table *t = ud;
    char id[24] = "-", pid[16] = "-", up[32] = "-", cpu[32] = "-",
         rss[32] = "-";
    char state[48], restarts[24] = "", fails[16] = "";

    if (r->w) {
        snprintf(id, sizeof(id), "%llu", (unsigned long long) r->w->id);
        snprintf(pid, sizeof(pid), "%d", (int) r->w->pid);
        span(up, sizeof(up), (double) (r->now - r->w->started_us) / 1e6);
    }
    if (r->has_proc) {
        snprintf(cpu, sizeof(cpu), "%llu.%02llus", r->cpu_ms / 1000,
                 r->cpu_ms % 1000 / 10);
        bytes(rss, sizeof(rss), r->rss);
    }
    if (!r->w && r->s && r->s->state == SLOT_BACKOFF)
        snprintf(state, sizeof(state), "backoff %llu.%01llus",
                 (unsigned long long) r->backoff_left_ms / 1000,
                 (unsigned long long) r->backoff_left_ms % 1000 / 100);
    else if (!r->w && r->s && r->s->state == SLOT_FAILED &&
             zc__timer_is_active(&r->s->timer)) {
        span(up, sizeof(up), (double) r->backoff_left_ms / 1000.0);
        snprintf(state, sizeof(state), "failed, retry %s", up);
        snprintf(up, sizeof(up), "-");
    }
    else if (r->role != SERVING)
        snprintf(state, sizeof(state), "%s (%s)", zc__slot_view_name(r->view),
                 r->role == REPLACEMENT ? "new" : "retiring");
    else
        snprintf(state, sizeof(state), "%s", zc__slot_view_name(r->view));
    if (r->s && r->role == SERVING) {
        snprintf(restarts, sizeof(restarts), "%llu",
                 (unsigned long long) r->s->restarts);
        snprintf(fails, sizeof(fails), "%u",
                 zc__respawn_failures(p, r->s, r->now));
    }
    zc__buf_printf(t->b, "%-5u %-7s %-8s %-4llu %s%-20s%s %-7s %-9s %-6s "
                   "%-8s %-7s %s\n", r->slot, id, pid, (unsigned long long)
                   (r->w ? r->w->generation : r->s->generation),
                   t->color ? view_color(r->view) : "", state,
                   t->color ? "\033[0m" : "", up, restarts, fails, cpu, rss,
                   r->w ? r->w->status : r->s && r->s->state == SLOT_FAILED &&
                   zc__health_why(r->s, 0) ? zc__health_why(r->s, 0) : "");
}

/* "health: ..." in the table's head, once anything has happened. */
static void health_line(const struct zc_primary *p, struct zc__buf *b)
{
    struct health_snapshot h;
    uint64_t misses, recycles;
    unsigned failed = zc__status_failed_slots(p);

    zc__health_snapshot(p, &h);
    misses = h.misses_all;
    recycles = h.recycles_all;
    if (!misses && !recycles && !h.give_ups)
        return;
    zc__buf_printf(b, "health: %llu watchdog miss%s, %llu recycle%s (lifetime "
                   "%llu, memory %llu), %llu give-up%s, %u slot%s failed now\n",
                   (unsigned long long) misses, misses == 1 ? "" : "es",
                   (unsigned long long) recycles, PLURAL(recycles),
                   (unsigned long long) h.recycles[ZC_RECYCLE_LIFETIME],
                   (unsigned long long) h.recycles[ZC_RECYCLE_MEMORY],
                   (unsigned long long) h.give_ups, PLURAL(h.give_ups),
                   failed, PLURAL(failed));
}

/* "spread: 50 50 50 50 connections by slot": where the kernel counts
 * them (eBPF round-robin); said not to be counted with random steering. */
static void spread_line(const struct zc_primary *p, struct zc__buf *b)
{
    uint64_t n;

    if (p->opt.balance != ZC_BALANCE_REUSEPORT)
        return;
    if (!zc__balance_steered(p, 0, &n)) {
        ZC__BUF_LIT(b, "spread: not counted (random steering counts nothing; "
                       "the eBPF round-robin does, as root)\n");
        return;
    }
    ZC__BUF_LIT(b, "spread:");
    for (unsigned i = 0; i < p->n_slots; i++) {
        if (!zc__balance_steered(p, i, &n))
            n = 0;
        zc__buf_printf(b, " %llu", (unsigned long long) n);
    }
    ZC__BUF_LIT(b, " connections by slot\n");
}

/* "steered around: slot 2 (takes nothing from its queue)": said only
 * when some are. */
static void out_line(const struct zc_primary *p, struct zc__buf *b)
{
    struct balance_snapshot bal;
    bool first = true;

    if (p->opt.balance != ZC_BALANCE_REUSEPORT)
        return;
    zc__balance_snapshot(p, &bal);
    if (!bal.n_out && !bal.all_stuck)
        return;
    ZC__BUF_LIT(b, "steered around:");
    for (unsigned i = 0; i < p->n_slots; i++) {
        if (!zc__slot_out(p->slots[i]))
            continue;
        zc__buf_printf(b, "%s slot %u (%s)", first ? "" : ",", i,
                       p->slots[i]->stuck.stopped ? "stopped"
                                                  : "takes nothing queued");
        first = false;
    }
    if (bal.all_stuck)
        zc__buf_printf(b, "%s no worker takes connections", first ? "" : ";");
    ZC__BUF_LIT(b, "\n");
}

/* "workers: as nobody; output prefix (1200 lines, 0 dropped)". */
static void service_line(const struct zc_primary *p, struct zc__buf *b)
{
    struct zc__output_stats st;

    zc__buf_printf(b, "workers: as %s; output %s",
                   p->creds.set_uid ? p->creds.user : "the primary's user",
                   zc__output_mode(p));
    if (zc__output_stats(p, &st))
        zc__buf_printf(b, " (%llu lines, %llu dropped%s)",
                       (unsigned long long) st.lines,
                       (unsigned long long) st.dropped,
                       st.paused ? ", waiting for a slow stdout" : "");
    ZC__BUF_LIT(b, "\n");
}

void zc__status_text(struct zc_primary *p, const char *control, bool color,
                     struct zc__buf *b)
{
    struct table t = { b, color };
    char up[32], bal[64];

    span(up, sizeof(up), seconds_since(p->start_us));
    zc__buf_printf(b,
                   "fleet %s: pid %d, zcluster %s, up %s, %s, generation "
                   "%llu; %u of %u workers ready\n",
                   p->name, (int) getpid(), ZC_VERSION, up, fleet_state(p),
                   (unsigned long long) p->running_generation, p->n_ready,
                   p->n_slots);
    ZC__BUF_LIT(b, "command:");
    for (size_t i = 0; p->argv[i]; i++)
        zc__buf_printf(b, " %s", p->argv[i]);
    balance_text(p, bal, sizeof(bal));
    ZC__BUF_LIT(b, "\nsockets:");
    sockets_line(p, b, bal);
    spread_line(p, b);
    out_line(p, b);
    {
        char dog[32], mem[32], life[32];

        limit_text(p, "watchdog", p->opt.watchdog_ms, dog, sizeof(dog));
        limit_text(p, "max-memory", p->opt.max_memory, mem, sizeof(mem));
        limit_text(p, "max-lifetime", p->opt.max_lifetime_ms, life,
                   sizeof(life));
        zc__buf_printf(b, "limits: watchdog %s, max memory %s, max lifetime "
                       "%s\n", dog, mem, life);
    }
    service_line(p, b);
    if (p->metrics_addr[0])
        zc__buf_printf(b, "metrics: http://%s/metrics\n", p->metrics_addr);
    else
        ZC__BUF_LIT(b, "metrics: off (--metrics)\n");
    zc__buf_printf(b, "control: %s\n", control);
    health_line(p, b);
    if (p->last_reload.generation) {
        span(up, sizeof(up), seconds_since(p->last_reload.end_us));
        zc__buf_printf(b, "last reload: generation %llu %s %s ago\n",
                       (unsigned long long) p->last_reload.generation,
                       zc__outcome_name(p->last_reload.outcome), up);
    }
    zc__buf_printf(b, "\n%-5s %-7s %-8s %-4s %-20s %-7s %-9s %-6s %-8s %-7s "
                   "%s\n", "SLOT", "WORKER", "PID", "GEN", "STATE", "UPTIME",
                   "RESTARTS", "FAILS", "CPU", "RSS", "STATUS");
    each_row(p, text_row, &t);
}

/* The running options as a file --config reads back to the same fleet:
 * the worker count as it is now, scaled or not. */
void zc__status_config(struct zc_primary *p, struct zc__buf *b)
{
    zc_options o = p->opt;
    char *text;

    o.workers = p->n_slots;
    text = zc_config_format(&o);
    if (!text) {
        b->failed = true;
        return;
    }
    zc__buf_printf(b, "# fleet %s, generation %llu%s%s\n", p->name,
                   (unsigned long long) p->running_generation,
                   p->opt.config ? ", read from " : "",
                   p->opt.config ? p->opt.config : "");
    zc__buf_add(b, text, strlen(text));
    free(text);
}
