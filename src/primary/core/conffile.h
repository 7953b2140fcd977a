/* A configuration file read into options, and options written as one
 * (conffile.c); the public half is zc_config_* in zcluster.h. */
#ifndef ZC_CONFFILE_H
#define ZC_CONFFILE_H

#include "primary/core/fleet.h"
#include "zcluster.h"

/* The line of c's file that sets key, 0 if none does (or c is NULL). */
unsigned zc__config_line(const zc_config *c, const char *key);

/* A copy of a program's options (of its struct_size) in *o, its strings
 * and lists owned by the handle returned; NULL with why. */
zc_config *zc__config_copy(const zc_options *in, zc_options *o, char *why,
                           size_t size);

/* zc_config_load() of options given as text (len bytes), named name in
 * what is said; no overrides. An upgraded image reads the running options
 * so (loop/upgrade.c). NULL with why. */
zc_config *zc__config_load_text(zc_options *o, const char *name,
                                const char *text, size_t len, char *why,
                                size_t why_size);

/* Drops options prepared for a reload that will not run. */
void zc__conf_next_drop(struct conf_next *n);

#endif
