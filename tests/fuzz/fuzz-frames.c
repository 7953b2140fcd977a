/*
 * libFuzzer target for the IPC frame decoder: the bytes a hostile or
 * broken peer could send. The first byte picks how the input is cut into
 * reads, so frames split at every possible point are tried. Beyond "no
 * crash, no sanitizer report, no leak": every frame handed out is well
 * formed, and re-encoding the frames gives back the bytes they came from.
 *
 *   make fuzz && build-fuzz/fuzz-frames -max_total_time=60 NEW_DIR tests/fuzz/corpus-frames
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PAYLOAD 4096

struct check {
    const uint8_t *input;   /* the frames, in order */
    size_t pos;             /* where the next frame must start */
};

static void on_frame(struct zc__ipc *c, struct zc__ipc_frame *f, void *userdata)
{
    struct check *k = userdata;
    size_t type_len = strlen(f->type);
    uint8_t hdr[ZC__IPC_HDR];

    (void) c;
    if (type_len == 0 || type_len > ZC_IPC_TYPE_MAX || f->len > MAX_PAYLOAD ||
        f->n_fds != 0 || zc__ipc_type_check(f->type, true) != 0)
        abort();
    zc__ipc_encode(hdr, type_len, f->len, 0);
    if (memcmp(k->input + k->pos, hdr, sizeof(hdr)) != 0 ||
        memcmp(k->input + k->pos + sizeof(hdr), f->type, type_len) != 0 ||
        memcmp(k->input + k->pos + sizeof(hdr) + type_len, f->data, f->len) != 0)
        abort();
    k->pos += sizeof(hdr) + type_len + f->len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zc__ipc c;
    struct check k;
    size_t chunk, off = 0;
    int r = 0;

    if (size < 1)
        return 0;
    chunk = (size_t) data[0] + 1;
    data++;
    size--;
    k = (struct check) { .input = data };
    zc__ipc_init(&c, -1, MAX_PAYLOAD, 1 << 20);
    while (off < size && r == 0) {
        size_t n = size - off < chunk ? size - off : chunk;

        r = zc__ipc_feed(&c, data + off, n, on_frame, &k);
        off += n;
    }
    /* Whatever was not handed out is an unfinished frame or an error. */
    if (r == 0 && k.pos + (c.rlen - c.rpos) != size)
        abort();
    if (r < 0 && !c.why)
        abort();
    zc__ipc_close(&c);
    return 0;
}
