/* The control socket's plain answers (reply.h). */
#include <stdlib.h>

#include "primary/control/reply.h"
#include "proto/ctlreq.h"

void zc__reply_json(struct zc__http_req *r, unsigned code, struct zc__buf *b)
{
    if (b->failed) {
        free(b->data);
        zc__http_reply_text(r, 500, ZC__JSON,
                            "{\"error\": \"out of memory\"}\n");
        return;
    }
    zc__http_reply(r, code, ZC__JSON, b->data, b->len, NULL);
}

void zc__reply_error(struct zc__http_req *r, unsigned code, const char *why,
                     const char *allow)
{
    struct zc__buf b = { 0 };

    zc__buf_printf(&b, "{\"version\": %d, \"status\": %u, \"error\": ",
                   ZC__CONTROL_VERSION, code);
    zc__buf_json(&b, why);
    ZC__BUF_LIT(&b, "}\n");
    if (b.failed) {
        free(b.data);
        zc__http_reply_text(r, 500, ZC__JSON,
                            "{\"error\": \"out of memory\"}\n");
        return;
    }
    zc__http_reply(r, code, ZC__JSON, b.data, b.len, allow);
}

void zc__reply_accepted(struct zc__http_req *r, const char *msg)
{
    struct zc__buf b = { 0 };

    zc__buf_printf(&b, "{\"version\": %d, \"accepted\": true, \"message\": ",
                   ZC__CONTROL_VERSION);
    zc__buf_json(&b, msg);
    ZC__BUF_LIT(&b, "}\n");
    zc__reply_json(r, 202, &b);
}
