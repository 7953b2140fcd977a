/*
 * Reading a field of one JSON object, for the lines both the control
 * socket's client and the Node channel read: keys at the top level only,
 * values skipped by their brackets, strings unescaped (\uXXXX to UTF-8, a
 * lone surrogate to U+FFFD). Trusts nothing: fuzzed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proto/json.h"

static const char *skip_ws(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
        s++;
    return s;
}

/* Past a string starting at its quote; NULL if it does not end. */
static const char *skip_string(const char *s, const char *end)
{
    for (s++; s < end; s++) {
        if (*s == '\\')
            s++;
        else if (*s == '"')
            return s + 1;
    }
    return NULL;
}

/* Past any value (nested ones by bracket depth); NULL if cut off. */
static const char *skip_value(const char *s, const char *end)
{
    int depth = 0;

    while (s < end) {
        if (*s == '"') {
            s = skip_string(s, end);
            if (!s)
                return NULL;
            if (depth == 0)
                return s;
            continue;
        }
        if (*s == '{' || *s == '[') {
            if (++depth > 64)
                return NULL;
        } else if (*s == '}' || *s == ']') {
            if (depth-- == 0)
                return s;
            if (depth == 0)
                return s + 1;
        } else if (depth == 0 && (*s == ',' || *s == ' ' || *s == '\n' ||
                                  *s == '\t' || *s == '\r')) {
            return s;
        }
        s++;
    }
    return depth == 0 ? s : NULL;
}

static void put(char *out, size_t size, size_t *n, char c)
{
    if (*n + 1 < size)
        out[*n] = c;
    (*n)++;
}

static void put_utf8(char *out, size_t size, size_t *n, unsigned cp)
{
    if (cp < 0x80) {
        put(out, size, n, (char) cp);
    } else if (cp < 0x800) {
        put(out, size, n, (char) (0xc0 | cp >> 6));
        put(out, size, n, (char) (0x80 | (cp & 0x3f)));
    } else {
        put(out, size, n, (char) (0xe0 | cp >> 12));
        put(out, size, n, (char) (0x80 | ((cp >> 6) & 0x3f)));
        put(out, size, n, (char) (0x80 | (cp & 0x3f)));
    }
}

/* The string at s (its quote), unescaped into out; its length. */
static int unescape(const char *s, const char *end, char *out, size_t size)
{
    size_t n = 0;

    for (s++; s < end && *s != '"'; s++) {
        char c = *s;

        if (c != '\\') {
            put(out, size, &n, c);
            continue;
        }
        if (++s >= end)
            return -EINVAL;
        switch (*s) {
        case 'n': put(out, size, &n, '\n'); break;
        case 't': put(out, size, &n, '\t'); break;
        case 'r': put(out, size, &n, '\r'); break;
        case 'b': put(out, size, &n, '\b'); break;
        case 'f': put(out, size, &n, '\f'); break;
        case 'u': {
            unsigned cp = 0;

            if (end - s < 5)
                return -EINVAL;
            for (int i = 1; i <= 4; i++) {
                char h = s[i];

                cp = cp * 16 + (unsigned) (h >= '0' && h <= '9' ? h - '0'
                     : h >= 'a' && h <= 'f' ? h - 'a' + 10
                     : h >= 'A' && h <= 'F' ? h - 'A' + 10 : 0);
            }
            /* Surrogates are not paired here: a lone one reads as U+FFFD. */
            put_utf8(out, size, &n, cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp);
            s += 4;
            break;
        }
        default: put(out, size, &n, *s); break;
        }
    }
    if (size)
        out[n < size ? n : size - 1] = '\0';
    return n > 0x7fffffff ? -E2BIG : (int) n;
}

int zc__json_find(const char *json, size_t len, const char *key,
                  const char **value, size_t *vlen)
{
    const char *s = json, *end = json + len;
    size_t klen = strlen(key);

    s = skip_ws(s, end);
    if (s >= end || *s != '{')
        return -EINVAL;
    s++;
    for (;;) {
        const char *k, *v, *ve;

        s = skip_ws(s, end);
        if (s >= end || *s == '}')
            return -ENOENT;
        if (*s != '"')
            return -EINVAL;
        k = s + 1;
        s = skip_string(s, end);
        if (!s)
            return -EINVAL;
        s = skip_ws(s, end);
        if (s >= end || *s != ':')
            return -EINVAL;
        v = skip_ws(s + 1, end);
        ve = skip_value(v, end);
        if (!ve || ve == v)
            return -EINVAL;
        if ((size_t) (s - k) >= klen + 1 && memcmp(k, key, klen) == 0 &&
            k[klen] == '"') {
            *value = v;
            *vlen = (size_t) (ve - v);
            return 0;
        }
        s = skip_ws(ve, end);
        if (s < end && *s == ',')
            s++;
    }
}

int zc__json_field(const char *json, size_t len, const char *key, char *out,
                   size_t size)
{
    const char *v;
    size_t n;
    int r = zc__json_find(json, len, key, &v, &n);

    if (r < 0)
        return r;
    if (*v == '"')
        return unescape(v, v + n, out, size);
    snprintf(out, size, "%.*s", (int) n, v);
    return (int) n;
}

/* --- validation: RFC 8259's grammar, nesting at most 64 deep --- */

static const char *valid_value(const char *s, const char *end, int depth);

static const char *valid_string(const char *s, const char *end)
{
    for (s++; s < end; s++) {
        unsigned char c = (unsigned char) *s;

        if (c == '"')
            return s + 1;
        if (c < 0x20)
            return NULL;
        if (c == '\\') {
            if (++s >= end)
                return NULL;
            if (*s == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (s + i >= end ||
                        !strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
                        return NULL;
                s += 4;
            } else if (!strchr("\"\\/bfnrt", *s) || !*s) {
                return NULL;
            }
        }
    }
    return NULL;
}

static const char *digits(const char *s, const char *end)
{
    const char *start = s;

    while (s < end && *s >= '0' && *s <= '9')
        s++;
    return s > start ? s : NULL;
}

static const char *valid_number(const char *s, const char *end)
{
    if (s < end && *s == '-')
        s++;
    if (s < end && *s == '0')
        s++;
    else if (!(s = digits(s, end)))
        return NULL;
    if (s < end && *s == '.' && !(s = digits(s + 1, end)))
        return NULL;
    if (s < end && (*s == 'e' || *s == 'E')) {
        s++;
        if (s < end && (*s == '+' || *s == '-'))
            s++;
        if (!(s = digits(s, end)))
            return NULL;
    }
    return s;
}

static const char *valid_members(const char *s, const char *end, int depth,
                                 char close, bool keys)
{
    s = skip_ws(s + 1, end);
    if (s < end && *s == close)
        return s + 1;
    for (;;) {
        if (keys) {
            if (s >= end || *s != '"' || !(s = valid_string(s, end)))
                return NULL;
            s = skip_ws(s, end);
            if (s >= end || *s != ':')
                return NULL;
            s = skip_ws(s + 1, end);
        }
        if (!(s = valid_value(s, end, depth + 1)))
            return NULL;
        s = skip_ws(s, end);
        if (s < end && *s == close)
            return s + 1;
        if (s >= end || *s != ',')
            return NULL;
        s = skip_ws(s + 1, end);
    }
}

static const char *valid_value(const char *s, const char *end, int depth)
{
    static const char *const words[] = { "true", "false", "null" };

    if (s >= end || depth > 64)
        return NULL;
    switch (*s) {
    case '{':
        return valid_members(s, end, depth, '}', true);
    case '[':
        return valid_members(s, end, depth, ']', false);
    case '"':
        return valid_string(s, end);
    default:
        break;
    }
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);

        if ((size_t) (end - s) >= n && memcmp(s, words[i], n) == 0)
            return s + n;
    }
    return valid_number(s, end);
}

bool zc__json_valid(const char *json, size_t len)
{
    const char *end = json + len, *s = valid_value(skip_ws(json, end), end, 0);

    return s && skip_ws(s, end) == end;
}
