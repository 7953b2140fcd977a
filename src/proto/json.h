/* A field of one JSON object (json.c). */
#ifndef ZC_JSON_H
#define ZC_JSON_H

#include <stdbool.h>
#include <stddef.h>

/* The raw text of the value of top-level key in the object json[0..len):
 * 0 with *value and *vlen (a string's quotes included), -ENOENT when the
 * key is absent, -EINVAL when json is not an object. */
int zc__json_find(const char *json, size_t len, const char *key,
                  const char **value, size_t *vlen);

/* The same value as text: a string unescaped, anything else as written.
 * Returns its length (out is cut at size - 1 and always terminated), or
 * -ENOENT, -EINVAL. */
int zc__json_field(const char *json, size_t len, const char *key, char *out,
                   size_t size);

/* Whether json[0..len) is one JSON value (RFC 8259), nesting at most 64
 * deep, with only whitespace around it. */
bool zc__json_valid(const char *json, size_t len);

#endif
