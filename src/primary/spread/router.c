/*
 * The balance modes' routers, by mode, and what every router shares: an
 * acceptor, started after the router's state and stopped before the
 * router closes what waits (router.h).
 */
#include <errno.h>

#include "base/log.h"
#include "primary/spread/router.h"

#define NS "zc:sticky"

const struct router *zc__router_for(int balance)
{
    switch (balance) {
    case ZC_BALANCE_STICKY: return &zc__sticky_router;
    case ZC_BALANCE_LEAST_CONN: return &zc__least_router;
    default: return NULL;
    }
}

int zc__router_start(struct zc_primary *p)
{
    int r;

    if (!p->router)
        return 0;
    p->router_state = p->router->create(p);
    r = p->router_state ? zc__accept_start(&p->router_acc, p,
                                           p->router->deliver, p->router_state)
                        : -ENOMEM;
    if (r == -ENOMEM) /* the others are logged with their address */
        zc_log(ZC_LOG_ERROR, NS,
               "cannot start: no memory to accept "
               "connections for the workers");
    return r;
}

void zc__router_stop(struct zc_primary *p)
{
    if (!p->router || !p->router_state || p->router_stopped)
        return;
    p->router_stopped = true;
    p->router->stop(p, zc__accept_stop(p->router_acc));
}

void zc__router_before_poll(struct zc_primary *p)
{
    if (p->router_acc)
        zc__accept_before_poll(p->router_acc);
}

void zc__router_free(struct zc_primary *p)
{
    if (!p->router)
        return;
    if (p->router_state)
        p->router->destroy(p);
    p->router_state = NULL;
    zc__accept_free(p->router_acc);
    p->router_acc = NULL;
}
