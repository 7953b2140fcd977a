/*
 * The fleet's vocabularies: each enum's words in one table, indexed by the
 * enum, with one lookup each way (words.c). Logs, status, metrics and the
 * control socket all say a state, an outcome or a kind with these words.
 */
#ifndef ZC_WORDS_H
#define ZC_WORDS_H

#include "primary/core/fleet.h"

/* A slot as status and metrics show it: its worker's state, or what the
 * slot waits for. */
enum slot_view {
    VIEW_STARTING, VIEW_READY, VIEW_DRAINING,   /* its worker's */
    VIEW_BACKOFF, VIEW_FAILED, VIEW_STOPPED, VIEW_EMPTY,
    VIEW_COUNT
};
enum slot_view zc__slot_view(const struct slot *s);
/* W_EXITED reads as draining: it is never shown, but may be counted. */
enum slot_view zc__worker_view(const struct worker *w);

/*
 * Each table's words, and back: *_name returns "?" for a value outside
 * the table, *_parse -1 for a word that is not in it.
 */
const char *zc__slot_view_name(enum slot_view v);
int zc__slot_view_parse(const char *word);
const char *zc__outcome_name(int outcome);      /* "done", ... */
int zc__outcome_parse(const char *word);
const char *zc__walk_kind_name(enum walk_kind kind);    /* "reload", ... */
const char *zc__walk_kind_doing(enum walk_kind kind);   /* "reloading", ... */
int zc__walk_kind_parse(const char *word);

#endif
