/* A growing text buffer, for the text the primary writes (/metrics,
 * metric keys). */
#ifndef ZC_BUF_H
#define ZC_BUF_H

#include <stdbool.h>
#include <stddef.h>

/* Zero it to start. On allocation failure it stops growing and sets
 * failed; data stays '\0'-terminated once anything is in it. */
struct zc__buf {
    char *data;
    size_t len, cap;
    bool failed;
};

void zc__buf_add(struct zc__buf *b, const char *s, size_t n);
/* A string literal, its length counted by the compiler. */
#define ZC__BUF_LIT(b, lit) zc__buf_add((b), "" lit, sizeof(lit) - 1)

void zc__buf_printf(struct zc__buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The shortest text that reads back as v, as the Prometheus text format
 * writes it: integers without a point, +Inf, -Inf, NaN. */
void zc__buf_double_text(char *out, size_t size, double v);
/* v as zc__buf_double_text() writes it, appended. */
void zc__buf_value(struct zc__buf *b, double v);

/* s escaped for a label value (quote: \" too) or a help text. */
void zc__buf_escaped(struct zc__buf *b, const char *s, bool quote);

/* s as a JSON string, quotes included; a byte that is not part of valid
 * UTF-8 (a worker's STATUS= text is anything it sent) becomes U+FFFD. */
void zc__buf_json(struct zc__buf *b, const char *s);
/* Any n bytes as the inside of a JSON string (no quotes), every byte
 * kept: a byte that is not UTF-8 as the text \xHH (base/clean.h). */
void zc__buf_json_bytes(struct zc__buf *b, const char *s, size_t n);

/* The Prometheus exposition format: a family's HELP and TYPE lines, and
 * one sample (labels: "" or "{k=\"v\"}", written as given). */
void zc__buf_family(struct zc__buf *b, const char *name, const char *type,
                    const char *help);
void zc__buf_sample(struct zc__buf *b, const char *name, const char *labels,
                    double v);
/*
 * A table of counts as metrics: each row is a sample read from the
 * uint64_t at offset in stats; a row with a help text starts a family,
 * one without adds a sample to the family above it.
 */
struct zc__buf_row {
    const char *name, *type, *help;
    const char *labels; /* "" or {reason="proxy"} */
    size_t offset;
};
void zc__buf_rows(struct zc__buf *b, const struct zc__buf_row *rows, size_t n,
                  const void *stats);
/* A family of one unlabelled sample: both of the above. */
void zc__buf_metric(struct zc__buf *b, const char *name, const char *type,
                    const char *help, double v);

#endif
