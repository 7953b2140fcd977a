/*
 * Where a fleet's control socket is, for both ends: the primary that
 * makes it and zclusterctl that looks for it (docs/control.md, "The
 * socket").
 */
#ifndef ZC_CTLPATH_H
#define ZC_CTLPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define ZC__CONTROL_NAME_MAX 64
#define ZC__CONTROL_SUFFIX ".sock"
/* Root's fleets, where every user looks too. Mode 0755: each socket's
 * own mode says who may use it. */
#define ZC__CONTROL_SYSTEM_DIR "/run/zcluster"

/* A fleet name: 1 to 64 of [A-Za-z0-9_.@-], not starting with '.' or
 * '-' (it becomes a file name). */
bool zc__control_name_ok(const char *name);

/*
 * The directory this user's fleets keep their sockets in by default: the
 * first entry of $RUNTIME_DIRECTORY (systemd's RuntimeDirectory=), else
 * ZC__CONTROL_SYSTEM_DIR for root, else $XDG_RUNTIME_DIR/zcluster, else
 * /tmp/zcluster-UID. *made: whether it is ours to create (all but
 * $RUNTIME_DIRECTORY). Returns 0 or -ENAMETOOLONG.
 */
int zc__control_dir(char *out, size_t size, bool *made);

/* DIR/NAME.sock. 0 or -ENAMETOOLONG. */
int zc__control_path(const char *dir, const char *name, char *out,
                     size_t size);

/*
 * Makes dir if it does not exist, with mode. An existing one must be a
 * directory (not a link) owned by us or by root that nobody else may write
 * in; one of ours that lacks bits of mode gets them (*was says the mode it
 * had, 0 if nothing changed), so that a directory another fleet made
 * narrower lets through whom the sockets' own modes admit. Returns 0 or
 * -errno, and what is wrong in why.
 */
int zc__control_dir_make(const char *dir, mode_t mode, char *why, size_t size,
                         mode_t *was);

/*
 * The name a fleet gets when none is given, from its command: the
 * program's base name ("shop"), or for an interpreter the script it runs
 * without its extension ("node app.js": "app"; "python3 -m myapp":
 * "myapp"; "node /srv/shop/index.js": "shop", the directory of an index
 * or main script). What a name may not hold becomes '_'; "zcluster" if
 * nothing is left.
 */
void zc__control_default_name(char *const *argv, char *out, size_t size);

/* The fleet name of a socket's file name ("shop.sock" -> "shop"), or
 * false for any other file. */
bool zc__control_name_of(const char *file, char *name, size_t size);

#endif
