/* Options: defaults and checks (options.c). */
#ifndef ZC_OPTIONS_H
#define ZC_OPTIONS_H

#include "zcluster.h"

/* Checks o (after defaults are applied). Returns 0 or -EINVAL, having
 * logged what is wrong. */
int zc__options_validate(const zc_options *o);

#endif
