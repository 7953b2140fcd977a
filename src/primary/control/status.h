/* A fleet's status, as the control socket gives it (status.c). */
#ifndef ZC_STATUS_H
#define ZC_STATUS_H

#include <stdbool.h>

#include "base/buf.h"
#include "primary/core/fleet.h"

/* The status document, version ZC__CONTROL_VERSION (docs/control.md). */
void zc__status_json(struct zc_primary *p, const char *control,
                     struct zc__buf *b);
/* The same as a table for people; color: ANSI colours for a terminal. */
void zc__status_text(struct zc_primary *p, const char *control, bool color,
                     struct zc__buf *b);

/* Slots given up on (--give-up) and not tried again yet. */
unsigned zc__status_failed_slots(const struct zc_primary *p);

/* The running options as a configuration file (zclusterctl config). */
void zc__status_config(struct zc_primary *p, struct zc__buf *b);

#endif
