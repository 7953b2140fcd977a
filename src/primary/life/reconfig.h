/* A reload that takes new options: prepared whole, applied when it starts
 * (reconfig.c). */
#ifndef ZC_RECONFIG_H
#define ZC_RECONFIG_H

#include <stddef.h>

#include "primary/core/fleet.h"

/* Reads the configuration file again (given NULL), or copies the
 * program's options, and checks them whole against the running fleet.
 * Returns 0 with them kept for the next reload (or nothing to read: no
 * file), or -EINVAL with a sentence that names the file and line in why;
 * the fleet is untouched either way. */
int zc__reconfig_prepare(struct zc_primary *p, const zc_options *given,
                         char *why, size_t size);

/* Starts a reload, as zc__walk_start(WALK_RELOAD) does, with the prepared
 * options swapped in first and the fleet scaled to their count. */
int zc__reconfig_reload(struct zc_primary *p, const char *by);

#endif
