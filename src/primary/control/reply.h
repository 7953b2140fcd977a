/* The control socket's plain answers: a JSON document, an error, a 202
 * for what was started and not waited for (reply.c). */
#ifndef ZC_REPLY_H
#define ZC_REPLY_H

#include "base/buf.h"
#include "primary/control/http.h"

#define ZC__JSON "application/json"

/* b as the body (freed by the reply); 500 if building it failed. */
void zc__reply_json(struct zc__http_req *r, unsigned code, struct zc__buf *b);
/* {"version": 1, "status": CODE, "error": WHY}; allow for a 405. */
void zc__reply_error(struct zc__http_req *r, unsigned code, const char *why,
                     const char *allow);
/* 202 {"version": 1, "accepted": true, "message": MSG}. */
void zc__reply_accepted(struct zc__http_req *r, const char *msg);

#endif
