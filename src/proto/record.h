/* A worker's output line as the primary writes it (record.c): pure. */
#ifndef ZC_RECORD_H
#define ZC_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/buf.h"

/* Whose line it is, and which piece of it (base/lines.h). */
struct zc__record {
    const char *when; /* local time for prefix, UTC "...Z" for JSON */
    const char *fleet;
    unsigned slot;
    uint64_t worker; /* its id */
    pid_t pid;
    uint64_t gen;
    bool err;      /* stderr, else stdout */
    unsigned part; /* 0: whole; 1, 2, ...: a long line's parts */
    bool last;
};

/*
 * "WHEN FLEET[SLOT] worker ID pid PID gen GEN out: TEXT\n", the stream
 * "out" or "err", with " (part N)" or " (part N, last)" after it for the
 * parts of a long line. TEXT is the worker's bytes as they are.
 */
void zc__record_prefix(struct zc__buf *b, const struct zc__record *r,
                       const char *s, size_t n);

/*
 * One JSON object and a newline: zc_time, zc_fleet, zc_slot, zc_worker,
 * zc_pid, zc_gen, zc_stream ("out", "err"), zc_part and zc_last for the
 * parts of a long line, then either the worker's own fields, when its
 * whole line is a JSON object with none of those names, or "msg": the
 * line as a string (valid JSON for any bytes: base/clean.h).
 */
void zc__record_json(struct zc__buf *b, const struct zc__record *r,
                     const char *s, size_t n);

/* Whether s is a JSON object whose fields can be merged into a record:
 * valid, printable UTF-8 and none of the record's own names. */
bool zc__record_mergeable(const char *s, size_t n);

#endif
