/*
 * libFuzzer target for the configuration file's text (proto/config.c).
 * Beyond "no crash, no sanitizer report": every entry's key is a key's
 * characters and its value holds no newline; a value split into words
 * gives NULL-terminated words, as many as it said; the nearest name to
 * any key is found in bounded time.
 *
 *   make fuzz && build-fuzz/fuzz-config -max_total_time=60 NEW_DIR tests/fuzz/corpus-config
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = { "workers", "listen", "command", "env",
                                         "max-surge" };
    struct zc__conf c;
    unsigned line;
    char why[256], **argv;

    if (zc__conf_parse(&c, (const char *) data, size, &line, why, sizeof(why)) <
        0) {
        if (!why[0])
            abort();
        return 0;
    }
    for (size_t i = 0; i < c.n; i++) {
        const char *k = c.e[i].key;
        int n;

        if (!*k ||
            strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(k) ||
            strchr(c.e[i].value, '\n') || c.e[i].line == 0)
            abort();
        (void) zc__conf_nearest(k, names, sizeof(names) / sizeof(names[0]));
        n = zc__conf_words(c.e[i].value, &argv, why, sizeof(why));
        if (n == 0)
            abort();
        if (n > 0) {
            for (int w = 0; w < n; w++)
                if (!argv[w])
                    abort();
            if (argv[n])
                abort();
            free(argv);
        }
    }
    zc__conf_free(&c);
    return 0;
}
