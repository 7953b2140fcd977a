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
        return fits(snprintf(out, size, ZC__CONTROL_SYSTEM_DIR), size);
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

int zc__control_dir_make(const char *dir, mode_t mode, char *why,
                         size_t size, mode_t *was)
{
    uid_t me = geteuid();
    struct stat st;

    *was = 0;
    if (mkdir(dir, mode) == 0) {
        /* mkdir's mode went through the umask: say it exactly. */
        if (chmod(dir, mode) == -1) {
            int e = errno;

            snprintf(why, size, "cannot set the mode of %s: %s", dir,
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
        snprintf(why, size,
                 S_ISLNK(st.st_mode) ? "%s is a symbolic link, not "
                                       "a directory; not following it"
                                     : "%s is not a directory",
                 dir);
        return -ENOTDIR;
    }
    /* Anyone may create /tmp/zcluster-UID first: it must be ours, and
     * nobody else's to write in. */
    if ((st.st_uid != me && st.st_uid != 0) || (st.st_mode & 0022)) {
        snprintf(why, size, "%s belongs to uid %lu or others may write in it; "
                 "not using it", dir, (unsigned long) st.st_uid);
        return -EPERM;
    }
    /* Made narrower by someone else (another fleet's zcluster, an older
     * one): the sockets' own modes decide who may use them, so the
     * directory lets through whom they need. */
    if ((st.st_mode & mode & 0777) != (mode & 0777) && st.st_uid == me) {
        if (chmod(dir, (st.st_mode | mode) & 0777) == -1) {
            int e = errno;

            snprintf(why, size, "%s is mode %04o and cannot be made %04o: %s",
                     dir, (unsigned) (st.st_mode & 0777),
                     (unsigned) ((st.st_mode | mode) & 0777), strerror(e));
            return -e;
        }
        *was = st.st_mode & 0777;
    }
    return 0;
}

/* Programs whose first argument names what runs: the script is the name
 * a person knows the fleet by ("node app.js" is "app", not "node"). */
static bool interpreter(const char *base)
{
    static const char *const exact[] = { "node", "nodejs", "deno", "bun",
        "bash", "sh", "dash", "zsh", "ksh", "luajit", "java", "Rscript",
        "tclsh", "env" };
    static const char *const stems[] = { "python", "pypy", "ruby", "perl",
        "php", "lua" };

    for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
        if (strcmp(base, exact[i]) == 0)
            return true;
    /* python3, python3.11, ruby3.1, ... */
    for (size_t i = 0; i < sizeof(stems) / sizeof(stems[0]); i++) {
        size_t n = strlen(stems[i]);

        if (strncmp(base, stems[i], n) == 0 &&
            strspn(base + n, "0123456789.") == strlen(base + n))
            return true;
    }
    return false;
}

/* Options of those programs that take the next argument as their value. */
static bool takes_value(const char *opt)
{
    static const char *const with_value[] = { "-r", "--require", "--import",
        "--loader", "--experimental-loader", "-C", "--conditions", "-W", "-X",
        "-cp", "-classpath", "--class-path" };

    for (size_t i = 0; i < sizeof(with_value) / sizeof(with_value[0]); i++)
        if (strcmp(opt, with_value[i]) == 0)
            return true;
    return false;
}

static const char *base_of(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

/* The script (or module) an interpreter runs, NULL if none is named. */
static const char *script_of(char *const *argv, bool *module)
{
    *module = false;
    for (size_t i = 1; argv[i]; i++) {
        const char *a = argv[i];

        if (strcmp(base_of(argv[0]), "env") == 0 && strchr(a, '=') &&
            a[0] != '-')
            continue;       /* env VAR=VALUE ... */
        if (strcmp(a, "-m") == 0 || strcmp(a, "-jar") == 0) {
            *module = strcmp(a, "-m") == 0;
            return argv[i + 1];
        }
        if (strcmp(a, "-e") == 0 || strcmp(a, "-c") == 0 ||
            strcmp(a, "-p") == 0 || strcmp(a, "--eval") == 0)
            return NULL;    /* code on the command line: no script */
        if (takes_value(a)) {
            if (!argv[i + 1])
                return NULL;
            i++;
            continue;
        }
        if (a[0] == '-')
            continue;
        if (strcmp(base_of(argv[0]), "env") == 0)
            return interpreter(base_of(a)) ? script_of(argv + i, module) : a;
        return a;
    }
    return NULL;
}

/* Copies s (n bytes) as a name: what a file name may not hold becomes '_'. */
static void clean_name(const char *s, size_t n, char *out, size_t size)
{
    size_t k = 0;

    for (size_t i = 0; i < n && k < size - 1 && k < ZC__CONTROL_NAME_MAX; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '_' || c == '.' ||
                  c == '-' || c == '@';

        out[k] = ok && !(k == 0 && (c == '.' || c == '-')) ? c : '_';
        k++;
    }
    out[k] = '\0';
}

void zc__control_default_name(char *const *argv, char *out, size_t size)
{
    static const char *const exts[] = { ".js", ".mjs", ".cjs", ".ts", ".py",
        ".rb", ".pl", ".php", ".sh", ".jar", ".lua", ".R", ".tcl" };
    const char *prog = argv && argv[0] ? argv[0] : "", *script, *base;
    char dir[4096];
    bool module;
    size_t n;

    base = base_of(prog);
    script = interpreter(base) ? script_of(argv, &module) : NULL;
    if (script && *script) {
        base = module ? script : base_of(script);
        n = strlen(base);
        for (size_t i = 0; !module && i < sizeof(exts) / sizeof(exts[0]); i++) {
            size_t e = strlen(exts[i]);

            if (n > e && strcmp(base + n - e, exts[i]) == 0) {
                n -= e;
                break;
            }
        }
        /* "node index.js", "python3 main.py": the directory is the name. */
        if (!module && ((n == 5 && strncmp(base, "index", 5) == 0) ||
                        (n == 4 && strncmp(base, "main", 4) == 0))) {
            const char *slash = strrchr(script, '/'), *d;

            dir[0] = '\0';
            if (slash)
                snprintf(dir, sizeof(dir), "%.*s", (int) (slash - script),
                         script);
            if ((!dir[0] && !slash) || strcmp(dir, ".") == 0)
                if (!getcwd(dir, sizeof(dir)))
                    dir[0] = '\0';
            d = base_of(dir);
            if (*d && strcmp(d, ".") != 0 && strcmp(d, "..") != 0) {
                base = d;
                n = strlen(d);
            }
        }
    } else {
        n = strlen(base);
    }
    clean_name(base, n, out, size);
    if (!zc__control_name_ok(out))
        snprintf(out, size, "zcluster");
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
