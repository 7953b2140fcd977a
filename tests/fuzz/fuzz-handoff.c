/*
 * libFuzzer target for the hand-off record a worker reads with each
 * connection a sticky primary hands it ("zc.conn", proto/handoff.c): the
 * worker's side of a wire format. Beyond "no crash, no sanitizer report":
 * a record that parses stays within the input and its addresses within
 * their buffers, and writing it again with zc__handoff_line() gives a
 * record that parses to the same values.
 *
 *   make fuzz && build-fuzz/fuzz-handoff -max_total_time=60 NEW_DIR tests/fuzz/corpus-handoff
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/handoff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const zc_conn *c)
{
    char line[ZC__CONN_LINE + 256], client[128], server[128];
    const char *p = line;
    zc_conn d = { .fd = -1 };
    size_t n;

    if (strlen(c->client) >= ZC__ADDR_TEXT ||
        (c->server && strlen(c->server) >= ZC__ADDR_TEXT))
        return;                 /* longer than the primary ever writes */
    n = zc__handoff_line(line, c->listener, c->client, c->client_port,
                         c->server, c->server_port);
    if (n > sizeof(line) || line[n - 1] != '\n')
        abort();
    if (!zc__handoff_parse(&p, line + n, &d, client, server, sizeof(client)) ||
        p != line + n || d.listener != c->listener ||
        d.client_port != c->client_port || strcmp(d.client, c->client) ||
        (!c->server) != (!d.server) ||
        (c->server && (strcmp(c->server, d.server) ||
                       d.server_port != c->server_port)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *) data, *end = p + size;

    /* Records one after the other, as a frame carries them. */
    for (int i = 0; i < 16 && p < end; i++) {
        char client[128], server[128];
        zc_conn c = { .fd = -1 };
        const char *start = p;

        if (!zc__handoff_parse(&p, end, &c, client, server, sizeof(client)))
            break;
        if (p <= start || p > end || strlen(c.client) >= sizeof(client) ||
            c.listener > 65535 || c.client_port > 65535 || c.server_port > 65535)
            abort();
        round_trip(&c);
    }
    return 0;
}
