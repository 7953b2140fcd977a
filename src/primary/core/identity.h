/* Who the workers run as: --user, --group, --chdir, --umask
 * (identity.c). */
#ifndef ZC_IDENTITY_H
#define ZC_IDENTITY_H

#include <stddef.h>

#include "base/spawn.h"

struct zc_primary;

/* Resolves the options into p->creds and says at start who the workers
 * run as. 0, or -EINVAL / -EPERM, logged: the fleet does not start. */
int zc__identity_resolve(struct zc_primary *p);
void zc__identity_free(struct zc_primary *p);
/* Fills the credential, directory and umask parts of a spawn. */
void zc__identity_spawn(const struct zc_primary *p, struct zc__spawn *sp);
/* What a child's failed step (ZC__CREDS_STEP_*, ZC__SPAWN_STEP_CHDIR)
 * means, into what; anything else leaves what as it is. */
void zc__identity_failure(const struct zc_primary *p, int step, char *what,
                          size_t size);

#endif
