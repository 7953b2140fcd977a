/*
 * The fleet's vocabularies (words.h). A table is indexed by its enum, so
 * adding a value without its word fails to build (the static asserts),
 * and no code depends on the order the values come in.
 */
#include <string.h>

#include "primary/core/words.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const views[] = {
    [VIEW_STARTING] = "starting", [VIEW_READY] = "ready",
    [VIEW_DRAINING] = "draining", [VIEW_BACKOFF] = "backoff",
    [VIEW_FAILED] = "failed", [VIEW_STOPPED] = "stopped",
    [VIEW_EMPTY] = "empty",
};
_Static_assert(COUNT(views) == VIEW_COUNT, "a slot view without its word");

static const char *const outcomes[] = {
    [ZC_RELOAD_DONE] = "done", [ZC_RELOAD_FAILED] = "failed",
    [ZC_RELOAD_INTERRUPTED] = "interrupted",
};
_Static_assert(COUNT(outcomes) == ZC__RELOAD_OUTCOMES,
               "a reload outcome without its word");

static const struct {
    const char *name, *doing;
} kinds[] = {
    [WALK_RELOAD] = { "reload", "reloading" },
    [WALK_RESTART] = { "restart", "restarting" },
    [WALK_RECYCLE] = { "recycle", "recycling" },
};
_Static_assert(COUNT(kinds) == WALK_KINDS, "a walk kind without its words");

static const char *word(const char *const *table, size_t n, int i)
{
    return i >= 0 && (size_t) i < n && table[i] ? table[i] : "?";
}

static int lookup(const char *const *table, size_t n, const char *w)
{
    for (size_t i = 0; i < n; i++)
        if (table[i] && strcmp(table[i], w) == 0)
            return (int) i;
    return -1;
}

enum slot_view zc__worker_view(const struct worker *w)
{
    switch (w->state) {
    case W_STARTING: return VIEW_STARTING;
    case W_READY: return VIEW_READY;
    case W_DRAINING: case W_EXITED: break;
    }
    return VIEW_DRAINING;
}

enum slot_view zc__slot_view(const struct slot *s)
{
    if (s->w)
        return zc__worker_view(s->w);
    switch (s->state) {
    case SLOT_BACKOFF: return VIEW_BACKOFF;
    case SLOT_DONE: return VIEW_STOPPED;
    case SLOT_FAILED: return VIEW_FAILED;
    case SLOT_EMPTY: case SLOT_RUNNING: break;
    }
    return VIEW_EMPTY;
}

const char *zc__slot_view_name(enum slot_view v)
{
    return word(views, COUNT(views), (int) v);
}

int zc__slot_view_parse(const char *w)
{
    return lookup(views, COUNT(views), w);
}

const char *zc__outcome_name(int outcome)
{
    return word(outcomes, COUNT(outcomes), outcome);
}

int zc__outcome_parse(const char *w)
{
    return lookup(outcomes, COUNT(outcomes), w);
}

const char *zc__walk_kind_name(enum walk_kind kind)
{
    return (unsigned) kind < WALK_KINDS ? kinds[kind].name : "?";
}

const char *zc__walk_kind_doing(enum walk_kind kind)
{
    return (unsigned) kind < WALK_KINDS ? kinds[kind].doing : "?";
}

int zc__walk_kind_parse(const char *w)
{
    for (unsigned i = 0; i < WALK_KINDS; i++)
        if (strcmp(kinds[i].name, w) == 0)
            return (int) i;
    return -1;
}
