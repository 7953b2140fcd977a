/* The balance modes' routers, by mode (router.h). */
#include "primary/spread/router.h"

const struct router *zc__router_for(int balance)
{
    switch (balance) {
    case ZC_BALANCE_STICKY: return &zc__sticky_router;
    case ZC_BALANCE_LEAST_CONN: return &zc__least_router;
    default: return NULL;
    }
}
