/*
 * libFuzzer target for the parsers that take operator input: listen
 * addresses, durations, numbers, signal names, ZC_DEBUG patterns, notify
 * messages and every option of the options table (the row picked by the
 * first byte), and PROXY protocol headers from the network. Beyond "no crash,
 * no sanitizer report", an address that parses must format to text that
 * parses back to the same socket address, and a PROXY header that parses
 * must have a length within the input, with every shorter prefix of it
 * "more bytes needed".
 *
 *   make fuzz && build-fuzz/fuzz-parsers -max_total_time=60 NEW_DIR tests/fuzz/corpus
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/compat.h"
#include "proto/listen.h"
#include "base/log.h"
#include "proto/notify.h"
#include "base/parse.h"
#include "proto/handoff.h"
#include "proto/proxy.h"
#include "zcluster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void address_round_trip(const char *s)
{
    struct zc__addr a, b;
    char text[ZC__ADDR_TEXT_MAX];

    if (zc__addr_parse(s, &a) != 0)
        return;
    zc__addr_format((struct sockaddr *) &a.ss, a.len, text, sizeof(text));
    if (zc__addr_parse(text, &b) != 0 || a.len != b.len ||
        memcmp(&a.ss, &b.ss, a.len) != 0)
        abort();
}

static void proxy_header(const uint8_t *data, size_t size)
{
    struct zc__proxy px;
    const char *why = NULL;
    int r = zc__proxy_parse(data, size, &px, &why);

    if (r < 0 && !why)
        abort();
    if (r > 0 && ((size_t) r > size || (size_t) r > ZC__PROXY_MAX ||
                  memchr(px.client, '\0', sizeof(px.client)) == NULL))
        abort();
    /* A valid header's prefixes are valid beginnings. */
    for (size_t k = r > 0 ? 1 : 0; r > 0 && k < (size_t) r; k += 7)
        if (zc__proxy_parse(data, k, &px, &why) != 0)
            abort();
}

/* An option's value as the command line gives it: parsed, or refused
 * with a sentence; never a half-set field. */
static void option(uint8_t pick, const char *value)
{
    const zc_option_info *i;
    const char *listen[ZC_MAX_LISTEN];
    char why[256] = "", text[128];
    zc_options o;
    size_t n = 0;

    while (zc_option_get(n))
        n++;
    i = zc_option_get(pick % n);
    zc_options_init(&o);
    o.listen_room = listen;
    if (zc_option_set(&o, i->name, value, why, sizeof(why)) < 0) {
        if (!why[0])
            abort();
        return;
    }
    if (zc_option_format(&o, i->name, text, sizeof(text)) < 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), *split;
    unsigned long n;
    uint32_t ms;
    uint64_t bytes;
    char val[64];

    if (!s)
        return 0;
    proxy_header(data, size);
    memcpy(s, data, size);
    s[size] = '\0';
    address_round_trip(s);
    if (size > 0)
        option(data[0], s + 1);
    if (zc__parse_duration_ms(s, 86400000u, &ms) == 0 && ms > 86400000u)
        abort();
    if (zc__parse_uint(s, 1, 4096, &n) == 0 && (n < 1 || n > 4096))
        abort();
    if (zc__parse_size(s, 1ull << 40, &bytes) == 0 && bytes > 1ull << 40)
        abort();
    (void) zc__signal_parse(s);
    (void) zc__log_level_parse(s);
    (void) zc__notify_get(s, "STATUS", val, sizeof(val));
    /* "patterns\nnamespace" */
    split = strchr(s, '\n');
    if (split) {
        *split = '\0';
        (void) zc__log_patterns_match(s, split + 1);
    }
    free(s);
    return 0;
}
