/* Options: defaults and checks (options.c). */
#ifndef ZC_OPTIONS_H
#define ZC_OPTIONS_H

#include <stddef.h>

#include "zcluster.h"

/* The smallest struct a caller may have: the size field and workers. */
#define ZC__OPTIONS_MIN_SIZE (offsetof(zc_options, workers) + sizeof(unsigned))

/* A caller's options (of its struct_size) into a whole struct of this
 * library's, the fields the caller's struct lacks at their defaults.
 * Returns 0, or -EINVAL with why for a struct not set up by
 * zc_options_init() or one from a newer header that sets fields this
 * library does not know. */
int zc__options_import(zc_options *out, const zc_options *in, char *why,
                       size_t size);

/* Checks o (after defaults are applied). Returns 0 or -EINVAL, having
 * logged what is wrong. */
int zc__options_validate(const zc_options *o);

#endif
