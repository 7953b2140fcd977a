/*
 * A configuration file, read strictly: a mistake in it must stop a start
 * or a reload with the file's line and what was expected, never become a
 * default. The format is the command line's, one option a line, so that
 * nothing about an option is said twice: "workers = 4" is --workers 4.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/clean.h"
#include "base/parse.h"
#include "proto/config.h"

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static bool key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* Printable UTF-8, tabs and CRs allowed: what a text editor writes. */
static bool text_line(const char *s, size_t n)
{
    while (n) {
        size_t run = 0;

        while (run < n && s[run] != '\t' && s[run] != '\r')
            run++;
        if (!zc__printable_utf8(s, run))
            return false;
        if (run < n)
            run++;
        s += run;
        n -= run;
    }
    return true;
}

/* One line (NUL-terminated, no newline): an entry, nothing, or an error. */
static int one_line(struct zc__conf *c, char *s, unsigned line, char *why,
                    size_t size)
{
    char *key, *eq, *end;

    while (blank(*s))
        s++;
    if (!*s || *s == '#')
        return 0;
    key = s;
    while (key_char(*s))
        s++;
    end = s;
    while (blank(*s))
        s++;
    if (end == key || *s != '=') {
        char shown[48];

        (void) zc__clean(shown, sizeof(shown), key, strlen(key));
        return zc__why(why, size,
                       "expected 'key = value' (a long option's "
                       "name, such as workers, then =), not '%s'",
                       shown);
    }
    eq = s;
    *end = '\0';
    s = eq + 1;
    while (blank(*s))
        s++;
    end = s + strlen(s);
    while (end > s && blank(end[-1]))
        *--end = '\0';
    for (char *u = key; *u; u++)
        if (*u == '_')
            *u = '-'; /* max_surge as the shell's variables spell it */
    c->e[c->n++] = (struct zc__conf_entry) { line, key, s };
    return 0;
}

int zc__conf_parse(struct zc__conf *c, const char *text, size_t len,
                   unsigned *line, char *why, size_t size)
{
    size_t lines = 1;
    unsigned at = 1;
    char *s;

    memset(c, 0, sizeof(*c));
    *line = 0;
    if (len > ZC__CONF_MAX_BYTES)
        return zc__why(why, size,
                       "larger than %d KiB: not a configuration "
                       "file",
                       ZC__CONF_MAX_BYTES / 1024);
    for (size_t i = 0; i < len; i++) {
        lines += text[i] == '\n';
        /* Text: no NUL, no control but tab and CR, and valid UTF-8 in
         * values (checked per line below). */
        if (text[i] == '\0' ||
            ((unsigned char) text[i] < 0x20 && !strchr("\t\r\n", text[i]))) {
            *line = (unsigned) lines;
            return zc__why(why, size,
                           "a control byte (0x%02x): not a text "
                           "file",
                           (unsigned char) text[i]);
        }
    }
    c->text = malloc(len + 1);
    c->e = calloc(lines, sizeof(*c->e));
    if (!c->text || !c->e) {
        zc__conf_free(c);
        return zc__why(why, size, "out of memory");
    }
    memcpy(c->text, text, len);
    c->text[len] = '\0';
    for (s = c->text; s; at++) {
        char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t) (nl - s) : strlen(s);

        if (nl)
            *nl = '\0';
        *line = at;
        if (n > ZC__CONF_MAX_LINE) {
            zc__conf_free(c);
            return zc__why(why, size, "a line longer than %d bytes",
                           ZC__CONF_MAX_LINE);
        }
        if (!text_line(s, n)) {
            zc__conf_free(c);
            return zc__why(why, size, "not valid UTF-8 text");
        }
        if (one_line(c, s, at, why, size) < 0) {
            zc__conf_free(c);
            return -EINVAL;
        }
        s = nl ? nl + 1 : NULL;
    }
    *line = 0;
    return 0;
}

void zc__conf_free(struct zc__conf *c)
{
    free(c->text);
    free(c->e);
    memset(c, 0, sizeof(*c));
}

/* The words of s into out (when not NULL), each NUL-terminated; their
 * count, or -EINVAL. Run twice: to size, then to fill. */
static int split(const char *s, char *out, char *why, size_t size)
{
    int words = 0;

    for (;;) {
        bool in_word = false;

        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            return words ? words
                         : zc__why(why, size,
                                   "no command: expected "
                                   "a program and its arguments");
        while (*s && *s != ' ' && *s != '\t') {
            in_word = true;
            if (*s == '\'') {
                const char *q = strchr(s + 1, '\'');

                if (!q)
                    return zc__why(why, size, "a ' that is not closed");
                if (out) {
                    memcpy(out, s + 1, (size_t) (q - s - 1));
                    out += q - s - 1;
                }
                s = q + 1;
            } else if (*s == '"') {
                for (s++; *s && *s != '"'; s++) {
                    if (*s == '\\' && strchr("\"\\$`", s[1]) && s[1])
                        s++;
                    if (out)
                        *out++ = *s;
                }
                if (!*s)
                    return zc__why(why, size, "a \" that is not closed");
                s++;
            } else if (*s == '\\') {
                if (!s[1])
                    return zc__why(why, size, "a \\ with nothing after it");
                if (out)
                    *out++ = s[1];
                s += 2;
            } else {
                if (out)
                    *out++ = *s;
                s++;
            }
        }
        if (in_word) {
            words++;
            if (out)
                *out++ = '\0';
        }
    }
}

int zc__conf_words(const char *s, char ***argv, char *why, size_t size)
{
    int n = split(s, NULL, why, size);
    size_t len = strlen(s) + 1;
    char **v, *text;

    if (n < 0)
        return n;
    /* The words are never longer than s with a NUL each. */
    v = malloc(sizeof(char *) * (size_t) (n + 1) + len + (size_t) n);
    if (!v)
        return zc__why(why, size, "out of memory");
    text = (char *) (v + n + 1);
    (void) split(s, text, why, size);
    for (int i = 0; i < n; i++) {
        v[i] = text;
        text += strlen(text) + 1;
    }
    v[n] = NULL;
    *argv = v;
    return n;
}

/* Edit distance of a and b, stopping early past limit. */
static size_t distance(const char *a, const char *b, size_t limit)
{
    size_t la = strlen(a), lb = strlen(b), row[64];

    if (la >= 63 || lb >= 63)
        return limit + 1;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0], best;

        row[0] = i;
        best = row[0];
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], d = diag + (a[i - 1] != b[j - 1]);

            if (row[j] + 1 < d)
                d = row[j] + 1;
            if (row[j - 1] + 1 < d)
                d = row[j - 1] + 1;
            row[j] = d;
            diag = up;
            if (d < best)
                best = d;
        }
        if (best > limit)
            return limit + 1;
    }
    return row[lb];
}

const char *zc__conf_nearest(const char *s, const char *const *names, size_t n)
{
    const char *found = NULL;
    size_t best = 3;

    for (size_t i = 0; i < n; i++) {
        size_t d = distance(s, names[i], 2);

        if (d < best) {
            best = d;
            found = names[i];
        }
    }
    return found;
}
