/* POST /upgrade and GET /upgrade on the control socket (upgradectl.c). */
#ifndef ZC_UPGRADECTL_H
#define ZC_UPGRADECTL_H

#include "primary/control/http.h"
#include "primary/core/fleet.h"
#include "proto/ctlreq.h"

void zc__upgradectl_request(struct zc_primary *p, struct zc__http_req *r,
                            const struct zc__ctl_req *q, const char *by);
void zc__upgradectl_status(struct zc_primary *p, struct zc__http_req *r);

#endif
