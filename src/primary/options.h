/* Options: defaults and checks (options.c). */
#ifndef ZC_OPTIONS_H
#define ZC_OPTIONS_H

#include "zcluster.h"

/* sticky = true is how the library said ZC_BALANCE_STICKY before balance
 * existed: either one sets the other, here and nowhere else. */
void zc__options_reconcile(zc_options *o);
/* Checks o (after defaults are applied). Returns 0 or -EINVAL, having
 * logged what is wrong. */
int zc__options_validate(const zc_options *o);

#endif
