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

/* A fleet name: 1 to 64 of [A-Za-z0-9_.@-], not starting with '.' or
 * '-' (it becomes a file name). */
bool zc__control_name_ok(const char *name);

/*
 * The directory this user's fleets keep their sockets in by default: the
 * first entry of $RUNTIME_DIRECTORY (systemd's RuntimeDirectory=), else
 * /run/zcluster for root, else $XDG_RUNTIME_DIR/zcluster, else
 * /tmp/zcluster-UID. *made: whether it is ours to create (all but
 * $RUNTIME_DIRECTORY). Returns 0 or -ENAMETOOLONG.
 */
int zc__control_dir(char *out, size_t size, bool *made);

/* DIR/NAME.sock. 0 or -ENAMETOOLONG. */
int zc__control_path(const char *dir, const char *name, char *out,
                     size_t size);

/*
 * Makes dir ours if it does not exist: mode 0700, or 0750 and group gid
 * when gid is not -1. An existing one must be a directory (not a link)
 * owned by us or by root; a /tmp one must be ours. Returns 0 or -errno,
 * and what is wrong in why.
 */
int zc__control_dir_make(const char *dir, gid_t gid, char *why, size_t size);

/* The fleet name of a socket's file name ("shop.sock" -> "shop"), or
 * false for any other file. */
bool zc__control_name_of(const char *file, char *name, size_t size);

#endif
