/*
 * libFuzzer target for the configuration file's text (proto/config.c)
 * and its meaning (zc_config_load). Beyond "no crash, no sanitizer
 * report": every entry's key is a key's characters and its value holds no
 * newline; a value split into words gives NULL-terminated words, as many
 * as it said; the nearest name to any key is found in bounded time; a
 * file that loads is refused with a reason or gives options that, written
 * as a file (zc_config_format, what zclusterctl config prints), load back
 * to the same file.
 *
 *   make fuzz && build-fuzz/fuzz-config -max_total_time=60 NEW_DIR tests/fuzz/corpus-config
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "proto/config.h"
#include "zcluster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* text as a file (a memfd) loaded into options: the handle, or NULL. */
static zc_config *load(const void *text, size_t len, zc_options *o)
{
    char path[64], why[512];
    zc_config *c;
    int fd = memfd_create("fuzz.conf", MFD_CLOEXEC);

    if (fd < 0)
        abort();
    if (len && write(fd, text, len) != (ssize_t) len)
        abort();
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    zc_options_init(o);
    why[0] = '\0';
    c = zc_config_load(o, path, NULL, why, sizeof(why));
    close(fd);
    if (!c && !why[0])
        abort(); /* a refusal always says why */
    return c;
}

/* What loads writes back as a file that loads to the same file. */
static void round_trip(const uint8_t *data, size_t size)
{
    zc_options o, back;
    zc_config *c = load(data, size, &o), *again;
    char *text, *text2;

    if (!c)
        return;
    text = zc_config_format(&o);
    if (!text)
        abort();
    again = text[0] ? load(text, strlen(text), &back) : NULL;
    if (text[0] && !again)
        abort();
    if (again) {
        text2 = zc_config_format(&back);
        if (!text2 || strcmp(text, text2) != 0)
            abort();
        free(text2);
        zc_config_free(again);
    }
    free(text);
    zc_config_free(c);
}

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
    round_trip(data, size);
    return 0;
}
