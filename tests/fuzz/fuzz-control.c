/*
 * libFuzzer target for the control protocol's parsers, both ends: the
 * primary's request reader (method, path, query arguments), the client's
 * answer reader (fed in pieces whose sizes come from the input), and the
 * JSON field reader, and the fleet name made from a command line. Beyond
 * "no crash, no sanitizer report": a request that parses names slots that
 * exist, a scale target stays in range, a string the primary writes as
 * JSON reads back the same, and a name made from any command is one.
 *
 *   make fuzz && build-fuzz/fuzz-control -max_total_time=60 NEW_DIR tests/fuzz/corpus-control
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "client/http.h"
#include "proto/ctlpath.h"
#include "proto/ctlreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int ignore(const char *line, size_t len, void *ud)
{
    (void) ud;
    if (len && !line)
        abort();
    return 0;
}

/* "METHOD\nPATH\nkey=value\n...": as MHD would hand it to us. */
static void request(char *s)
{
    struct zc__ctl_arg args[ZC__CTL_MAX_ARGS + 2];
    char *method = strsep(&s, "\n"), *path = s ? strsep(&s, "\n") : NULL;
    struct zc__ctl_req q;
    const char *allow;
    char why[256];
    size_t n = 0;

    if (!path)
        return;
    while (s && n < ZC__CTL_MAX_ARGS + 2) {
        char *kv = strsep(&s, "\n"), *eq = strchr(kv, '=');

        if (eq)
            *eq++ = '\0';
        args[n++] = (struct zc__ctl_arg) { kv, eq };
    }
    if (zc__ctl_parse(&q, method, path, args, n, why, sizeof(why), &allow))
        return;
    for (unsigned i = ZC_MAX_WORKERS; i < ZC_MAX_WORKERS + 64; i++)
        if (zc__ctl_has_slot(&q, i))
            abort();
    if (q.verb == ZC__CTL_SCALE) {
        int t = zc__ctl_scale_target(&q, 4);

        if (t != -ERANGE && (t < 1 || t > ZC_MAX_WORKERS))
            abort();
    }
}

static void answer(const uint8_t *d, size_t n)
{
    struct zc__reader r;
    size_t at = 0;
    int rc = 0;

    zc__reader_init(&r, ignore, NULL);
    while (at < n && rc == 0) {
        size_t k = 1 + d[at] % 17;

        at++;
        if (k > n - at)
            k = n - at;
        rc = zc__reader_feed(&r, (const char *) d + at, k);
        at += k;
    }
    if (rc == 0)
        (void) zc__reader_eof(&r);
    zc__reader_free(&r);
}

static void json(const char *s, size_t n)
{
    struct zc__buf b = { 0 };
    char out[512];
    bool ascii = true;
    int len;

    (void) zc_control_field(s, n, "a", out, sizeof(out));
    (void) zc_control_field(s, n, "message", out, sizeof(out));
    for (size_t i = 0; i < strlen(s); i++)
        ascii &= (unsigned char) s[i] < 0x80;
    ZC__BUF_LIT(&b, "{\"x\": 1, \"a\": ");
    zc__buf_json(&b, s);
    ZC__BUF_LIT(&b, "}");
    if (b.failed)
        abort();
    len = zc_control_field(b.data, b.len, "a", out, sizeof(out));
    if (len < 0 || (ascii && strlen(s) < sizeof(out) && strcmp(out, s) != 0))
        abort();
    free(b.data);
}

/* "ARG\nARG\n...": a command line, 8 words at most. */
static void command(char *s)
{
    char *argv[9], name[ZC__CONTROL_NAME_MAX + 1];
    size_t n = 0;

    while (s && n < 8)
        argv[n++] = strsep(&s, "\n");
    argv[n] = NULL;
    zc__control_default_name(argv, name, sizeof(name));
    if (!zc__control_name_ok(name))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s;

    if (size < 1 || size > 65536)
        return 0;
    s = malloc(size);
    if (!s)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    switch (data[0] % 4) {
    case 0:
        request(s);
        break;
    case 1:
        answer(data + 1, size - 1);
        break;
    case 3:
        command(s);
        break;
    default:
        json(s, strlen(s));
        break;
    }
    free(s);
    return 0;
}
