/* A growing text buffer: one allocation that doubles, and a flag instead
 * of an error at every call, so a writer checks once at the end. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clean.h"

static bool buf_reserve(struct zc__buf *b, size_t n)
{
    size_t cap;
    char *d;

    if (b->failed)
        return false;
    if (b->cap - b->len > n)
        return true;
    cap = b->cap ? b->cap : 4096;
    while (cap - b->len <= n)
        cap *= 2;
    d = realloc(b->data, cap);
    if (!d) {
        b->failed = true;
        return false;
    }
    b->data = d;
    b->cap = cap;
    return true;
}

void zc__buf_add(struct zc__buf *b, const char *s, size_t n)
{
    if (!buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void zc__buf_json_bytes(struct zc__buf *b, const char *s, size_t n)
{
    if (n > (SIZE_MAX - 1) / 6 || !buf_reserve(b, n * 6 + 1))
        return;
    b->len += zc__json_escape(b->data + b->len, n * 6 + 1, s, n);
}

void zc__buf_printf(struct zc__buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !buf_reserve(b, (size_t) n))
        return;
    va_start(ap, fmt);
    (void) vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t) n;
}

void zc__buf_double_text(char *out, size_t size, double v)
{
    if (isnan(v))
        snprintf(out, size, "NaN");
    else if (isinf(v))
        snprintf(out, size, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 1e15)
        snprintf(out, size, "%.0f", v);
    else {
        snprintf(out, size, "%.15g", v);
        if (strtod(out, NULL) != v)
            snprintf(out, size, "%.17g", v);
    }
}

void zc__buf_value(struct zc__buf *b, double v)
{
    char s[40];

    zc__buf_double_text(s, sizeof(s), v);
    zc__buf_add(b, s, strlen(s));
}

/* A label value or help text, escaped as the text format wants. */
void zc__buf_escaped(struct zc__buf *b, const char *s, bool quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            zc__buf_add(b, "\\\\", 2);
        else if (*s == '\n')
            zc__buf_add(b, "\\n", 2);
        else if (*s == '"' && quote)
            zc__buf_add(b, "\\\"", 2);
        else
            zc__buf_add(b, s, 1);
    }
}

/* Bytes of the valid UTF-8 sequence at c (c[0] >= 0x80), or 0. */
static size_t utf8_len(const unsigned char *c)
{
    size_t n = c[0] >= 0xf0 && c[0] <= 0xf4 ? 4 : c[0] >= 0xe0 ? 3
             : c[0] >= 0xc2 && c[0] <= 0xdf ? 2 : 0;

    if (n == 0 || (n == 3 && c[0] > 0xef))
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((c[i] & 0xc0) != 0x80)
            return 0;
    /* overlong forms, surrogates, past U+10FFFF */
    if ((c[0] == 0xe0 && c[1] < 0xa0) || (c[0] == 0xed && c[1] > 0x9f) ||
        (c[0] == 0xf0 && c[1] < 0x90) || (c[0] == 0xf4 && c[1] > 0x8f))
        return 0;
    return n;
}

void zc__buf_json(struct zc__buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";

    zc__buf_add(b, "\"", 1);
    for (const unsigned char *c = (const unsigned char *) s; *c; c++) {
        if (*c == '"' || *c == '\\') {
            char e[2] = { '\\', (char) *c };

            zc__buf_add(b, e, 2);
        } else if (*c == '\n') {
            zc__buf_add(b, "\\n", 2);
        } else if (*c < 0x20 || *c == 0x7f) {
            char e[6] = { '\\', 'u', '0', '0', hex[*c >> 4], hex[*c & 15] };

            zc__buf_add(b, e, 6);
        } else if (*c < 0x80) {
            zc__buf_add(b, (const char *) c, 1);
        } else {
            size_t n = utf8_len(c);

            if (n) {
                zc__buf_add(b, (const char *) c, n);
                c += n - 1;
            } else {
                zc__buf_add(b, "\\ufffd", 6);
            }
        }
    }
    zc__buf_add(b, "\"", 1);
}

void zc__buf_family(struct zc__buf *b, const char *name, const char *type,
                    const char *help)
{
    zc__buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void zc__buf_sample(struct zc__buf *b, const char *name, const char *labels,
                    double v)
{
    zc__buf_printf(b, "%s%s ", name, labels);
    zc__buf_value(b, v);
    zc__buf_add(b, "\n", 1);
}

void zc__buf_metric(struct zc__buf *b, const char *name, const char *type,
                    const char *help, double v)
{
    zc__buf_family(b, name, type, help);
    zc__buf_sample(b, name, "", v);
}

void zc__buf_rows(struct zc__buf *b, const struct zc__buf_row *rows, size_t n,
                  const void *stats)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t v;

        memcpy(&v, (const char *) stats + rows[i].offset, sizeof(v));
        if (rows[i].help)
            zc__buf_family(b, rows[i].name, rows[i].type, rows[i].help);
        zc__buf_sample(b, rows[i].name, rows[i].labels, (double) v);
    }
}
