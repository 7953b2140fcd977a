/* The fleet's listening sockets (listeners.c). */
#ifndef ZC_LISTENERS_H
#define ZC_LISTENERS_H

#include "primary/core/fleet.h"

/* Adopts systemd's sockets, then binds the listen addresses. Returns 0
 * or -errno (logged, with the address). */
int zc__listeners_open(struct zc_primary *p);
void zc__listeners_close(struct zc_primary *p);

#endif
