/*
 * The control socket's place. Both ends compute it the same way, so
 * "zclusterctl -n shop" finds the "zcluster --name shop" of the same user
 * (or of root, for root) with no configuration at all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/ctlpath.h"

bool zc__control_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;

    if (n == 0 || n > ZC__CONTROL_NAME_MAX || name[0] == '.' || name[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' ||
              c == '@'))
            return false;
    }
    return true;
}

static int fits(int n, size_t size)
{
    return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

int zc__control_dir(char *out, size_t size, bool *made)
{
    const char *rd = getenv("RUNTIME_DIRECTORY");
    const char *xdg = getenv("XDG_RUNTIME_DIR");

    *made = true;
    if (rd && rd[0] == '/') {
        /* systemd lists several as "a:b"; the first is the unit's own. */
        size_t n = strcspn(rd, ":");

        *made = false;
        if (n >= size)
            return -ENAMETOOLONG;
        memcpy(out, rd, n);
        out[n] = '\0';
        return 0;
    }
    if (geteuid() == 0)
        return fits(snprintf(out, size, "/run/zcluster"), size);
    if (xdg && xdg[0] == '/')
        return fits(snprintf(out, size, "%s/zcluster", xdg), size);
    return fits(snprintf(out, size, "/tmp/zcluster-%lu",
                         (unsigned long) geteuid()), size);
}

int zc__control_path(const char *dir, const char *name, char *out, size_t size)
{
    return fits(snprintf(out, size, "%s/%s" ZC__CONTROL_SUFFIX, dir, name),
                size);
}

int zc__control_dir_make(const char *dir, gid_t gid, char *why, size_t size)
{
    mode_t mode = gid == (gid_t) -1 ? 0700 : 0750;
    uid_t me = geteuid();
    struct stat st;

    if (mkdir(dir, mode) == 0) {
        /* mkdir's mode went through the umask: say it exactly. */
        if ((gid != (gid_t) -1 && chown(dir, (uid_t) -1, gid) == -1) ||
            chmod(dir, mode) == -1) {
            int e = errno;

            snprintf(why, size, "cannot set the owner or mode of %s: %s", dir,
                     strerror(e));
            (void) rmdir(dir);
            return -e;
        }
        return 0;
    }
    if (errno != EEXIST) {
        int e = errno;

        snprintf(why, size, "cannot create %s: %s", dir, strerror(e));
        return -e;
    }
    if (lstat(dir, &st) == -1) {
        int e = errno;

        snprintf(why, size, "cannot read %s: %s", dir, strerror(e));
        return -e;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(why, size, "%s is not a directory", dir);
        return -ENOTDIR;
    }
    /* Anyone may create /tmp/zcluster-UID first: it must be ours, and
     * nobody else's to write in. */
    if ((st.st_uid != me && st.st_uid != 0) || (st.st_mode & 0022)) {
        snprintf(why, size, "%s belongs to uid %lu or others may write in it; "
                 "not using it", dir, (unsigned long) st.st_uid);
        return -EPERM;
    }
    return 0;
}

bool zc__control_name_of(const char *file, char *name, size_t size)
{
    size_t n = strlen(file), s = strlen(ZC__CONTROL_SUFFIX);

    if (n <= s || strcmp(file + n - s, ZC__CONTROL_SUFFIX) != 0 ||
        n - s >= size)
        return false;
    memcpy(name, file, n - s);
    name[n - s] = '\0';
    return zc__control_name_ok(name);
}
