/*
 * One rule for text from outside (a worker's STATUS=, a line on a Node
 * channel, a process name from /proc): it reaches our log and an
 * operator's terminal, where an escape sequence would act (a title set, a
 * cursor moved, a line forged). Printable characters pass; every other
 * byte is written as \xHH.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/clean.h"

/* The length of the valid UTF-8 sequence of a printable character at s
 * (2 to 4 bytes), 0 if there is none: C1 controls (U+0080..U+009F),
 * overlong forms and surrogates are not. */
static size_t utf8_char(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len = c >= 0xf5   ? 0
                 : c >= 0xf0 ? 4
                 : c >= 0xe0 ? 3
                 : c >= 0xc2 ? 2
                             : 0;

    if (!len || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if (len == 2 && c == 0xc2 && s[1] < 0xa0)
        return 0;       /* C1 controls */
    if (len == 3 && ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0)))
        return 0;       /* overlong, surrogates */
    if (len == 4 && ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90)))
        return 0;       /* overlong, past U+10FFFF */
    return len;
}

/* Appends the k bytes of one character if they fit with a NUL. */
static bool put_char(char *out, size_t size, size_t *o, const unsigned char *c,
                     size_t k)
{
    if (*o + k >= size)
        return false;
    memcpy(out + *o, c, k);
    *o += k;
    return true;
}

size_t zc__clean(char *out, size_t size, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *) s;
    size_t o = 0;

    if (!size)
        return 0;
    for (size_t i = 0; i < n; ) {
        size_t k = u[i] >= 0x20 && u[i] < 0x7f ? 1
                 : u[i] >= 0x80 ? utf8_char(u + i, n - i) : 0;

        if (k) {
            if (!put_char(out, size, &o, u + i, k))
                break;
            i += k;
        } else {
            if (o + 4 >= size)
                break;
            snprintf(out + o, 5, "\\x%02x", u[i]);
            o += 4;
            i++;
        }
    }
    out[o] = '\0';
    return o;
}

/* One byte of JSON string content: its escape, or itself. */
static size_t json_byte(char *out, unsigned char c)
{
    switch (c) {
    case '"': return (size_t) snprintf(out, 3, "\\\"");
    case '\\': return (size_t) snprintf(out, 3, "\\\\");
    case '\n': return (size_t) snprintf(out, 3, "\\n");
    case '\t': return (size_t) snprintf(out, 3, "\\t");
    case '\r': return (size_t) snprintf(out, 3, "\\r");
    default: break;
    }
    if (c < 0x20 || c == 0x7f)
        return (size_t) snprintf(out, 7, "\\u%04x", c);
    out[0] = (char) c;
    return 1;
}

size_t zc__json_escape(char *out, size_t size, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *) s;
    char tmp[8];
    size_t o = 0;

    if (!size)
        return 0;
    for (size_t i = 0; i < n;) {
        size_t k, m, run = i;

        /* The common case, a run of printable ASCII: copied whole. */
        while (run < n && u[run] >= 0x20 && u[run] < 0x7f && u[run] != '"' &&
               u[run] != '\\')
            run++;
        if (run > i) {
            m = run - i < size - 1 - o ? run - i : size - 1 - o;
            memcpy(out + o, s + i, m);
            o += m;
            i += m;
            if (o + 1 >= size)
                break;
            continue;
        }
        k = u[i] >= 0x80 ? utf8_char(u + i, n - i) : 0;
        if (k) {
            if (!put_char(out, size, &o, u + i, k))
                break;
            i += k;
            continue;
        }
        /* Not UTF-8 (or a C1 control): the byte as text, \xHH, which a
         * JSON reader gets back as the four characters. */
        m = u[i] >= 0x80
                ? (size_t) snprintf(tmp, sizeof(tmp), "\\\\x%02x", u[i])
                : json_byte(tmp, u[i]);
        if (o + m >= size)
            break;
        for (size_t j = 0; j < m; j++)
            out[o++] = tmp[j];
        i++;
    }
    out[o] = '\0';
    return o;
}

bool zc__printable_utf8(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *) s;

    for (size_t i = 0; i < n;) {
        size_t k = u[i] >= 0x20 && u[i] < 0x7f ? 1
                   : u[i] >= 0x80              ? utf8_char(u + i, n - i)
                                               : 0;

        if (!k)
            return false;
        i += k;
    }
    return true;
}
