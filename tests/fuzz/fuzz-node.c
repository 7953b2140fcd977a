/*
 * libFuzzer target for Node's channel as the primary reads it: bytes cut
 * into lines in pieces whose sizes come from the input, each line read as
 * a cluster message, and the JSON check under it. Beyond "no crash, no
 * sanitizer report": a message that parses has its strings terminated
 * within their buffers and its port in range; a line the check calls
 * valid has every field findable without error.
 *
 *   make fuzz && build-fuzz/fuzz-node -max_total_time=60 NEW_DIR tests/fuzz/corpus-node
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/json.h"
#include "proto/nodemsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_line(const char *line, size_t len, void *ud)
{
    struct zc__node_msg m;
    char why[128];
    const char *v;
    size_t vlen;

    (void) ud;
    if (zc__node_parse(line, len, &m, why, sizeof(why)) == 0) {
        if (memchr(m.act, 0, sizeof(m.act)) == NULL ||
            memchr(m.address, 0, sizeof(m.address)) == NULL ||
            memchr(m.key, 0, sizeof(m.key)) == NULL)
            abort();
        if (m.kind == ZC__NODE_CLUSTER && (!strcmp(m.act, "queryServer") ||
            !strcmp(m.act, "listening")) && (m.port < -1 || m.port > 65535))
            abort();
    } else if (!memchr(why, 0, sizeof(why))) {
        abort();
    }
    if (zc__json_valid(line, len) && len && line[0] == '{' &&
        zc__json_find(line, len, "cmd", &v, &vlen) == -EINVAL)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zc__node_lines l = { 0 };
    size_t at = 0;
    int r = 0;

    while (at < size && r == 0) {
        size_t k = 1 + data[at] % 64;

        at++;
        if (k > size - at)
            k = size - at;
        r = zc__node_lines_feed(&l, (const char *) data + at, k, on_line, NULL);
        at += k;
    }
    zc__node_lines_free(&l);
    return 0;
}
