/*
 * A configuration file read into a zc_options: each line through the
 * option table, as the command line is (zc_option_set), so an option is
 * one row and means the same in both places. proto/config.c reads the
 * text; this file knows what its keys mean, owns the strings the options
 * then point to, and writes options back as a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/parse.h"
#include "primary/core/conffile.h"
#include "primary/core/optable.h"
#include "primary/core/options.h"
#include "proto/config.h"

struct zc_config {
    char *path;           /* absolute, as o->config */
    char **overrides;     /* a copy, NULL-terminated */
    struct zc__conf conf; /* the file's text and entries */
    void **kept;          /* other allocations o points into */
    size_t n_kept, cap_kept;
    const char *listen_room[ZC_MAX_LISTEN];
    const char *env_room[ZC_MAX_ENV];
};

/* Keeps ptr until zc_config_free(); NULL (and ptr freed) without memory. */
static void *keep(struct zc_config *c, void *ptr)
{
    if (ptr && c->n_kept == c->cap_kept) {
        size_t cap = c->cap_kept ? 2 * c->cap_kept : 16;
        void **k = realloc(c->kept, cap * sizeof(*k));

        if (!k) {
            free(ptr);
            return NULL;
        }
        c->kept = k;
        c->cap_kept = cap;
    }
    if (ptr)
        c->kept[c->n_kept++] = ptr;
    return ptr;
}

static char *keep_str(struct zc_config *c, const char *s)
{
    return s ? keep(c, strdup(s)) : NULL;
}

void zc_config_free(zc_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_kept; i++)
        free(c->kept[i]);
    free(c->kept);
    zc__conf_free(&c->conf);
    free(c);
}

/* The whole file, refused before it is read when it cannot be a
 * configuration: a directory, a device or a FIFO (which would block), one
 * over the size a fleet's options could take. */
static int read_file(const char *path, char **text, size_t *len, char *why,
                     size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;
    size_t n = 0;
    char *buf;

    if (fd < 0)
        return zc__why(why, size, "cannot read %s: %s", path, strerror(errno));
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        st.st_size > ZC__CONF_MAX_BYTES) {
        int e = errno;

        (void) close(fd);
        if (S_ISDIR(st.st_mode))
            return zc__why(why, size,
                           "%s: is a directory, not a "
                           "configuration file",
                           path);
        if (!S_ISREG(st.st_mode))
            return zc__why(why, size, "%s: not a regular file", path);
        if (st.st_size > ZC__CONF_MAX_BYTES)
            return zc__why(why, size,
                           "%s: %lld bytes: a configuration "
                           "file is at most 1 MiB",
                           path, (long long) st.st_size);
        return zc__why(why, size, "cannot read %s: %s", path, strerror(e));
    }
    buf = malloc(ZC__CONF_MAX_BYTES + 1);
    while (buf && n <= ZC__CONF_MAX_BYTES) {
        ssize_t r = read(fd, buf + n, ZC__CONF_MAX_BYTES + 1 - n);

        if (r == 0)
            break;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;

            free(buf);
            (void) close(fd);
            return zc__why(why, size, "cannot read %s: %s", path, strerror(e));
        }
        n += (size_t) r;
    }
    (void) close(fd);
    if (!buf)
        return zc__why(why, size, "%s: no memory to read it", path);
    if (n > ZC__CONF_MAX_BYTES) { /* it grew while we read it */
        free(buf);
        return zc__why(why, size,
                       "%s: over 1 MiB: a configuration file is "
                       "at most 1 MiB",
                       path);
    }
    *text = buf;
    *len = n;
    return 0;
}

/* path made absolute against the working directory, symlinks kept: a
 * reload reads what the path names then, as an operator expects. */
static char *absolute(const char *path)
{
    char cwd[4096], *out;

    if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
        return strdup(path);
    out = malloc(strlen(cwd) + strlen(path) + 2);
    if (out)
        sprintf(out, "%s/%s", cwd, path);
    return out;
}

static int bool_word(const char *s)
{
    static const char *const yes[] = { "on", "true", "yes", "1" };
    static const char *const no[] = { "off", "false", "no", "0" };

    for (size_t i = 0; i < 4; i++) {
        if (strcmp(s, yes[i]) == 0)
            return 1;
        if (strcmp(s, no[i]) == 0)
            return 0;
    }
    return -1;
}

/* The table's names, and command, for "did you mean". */
static const char *nearest_key(const char *key)
{
    const char *names[96];
    const struct zc__opt *r;
    size_t n = 0;

    for (size_t i = 0; (r = zc__opt_at(i)) && n < 95; i++)
        names[n++] = r->info.name;
    names[n++] = "command";
    return zc__conf_nearest(key, names, n);
}

/* Sets the option of row r from one word, as the command line would. */
static int set_word(zc_options *o, const struct zc__opt *r, const char *v,
                    char *why, size_t size)
{
    int b;

    if (r->kind != ZC__OPT_FLAG)
        return zc_option_set(o, r->info.name, v, why, size);
    b = bool_word(v);
    if (b < 0)
        return zc__why(why, size, "%s: expected on or off, not '%.40s'",
                       r->info.name, v);
    if (b)
        return zc_option_set(o, r->info.name, NULL, why, size);
    *(bool *) ((char *) o + r->offset) = false;
    return 0;
}

struct reading {
    struct zc_config *c;
    zc_options *o;
    const char *path;
    unsigned seen[96]; /* the line each row was given on */
    unsigned command_line;
    bool keep_command; /* the overrides give one */
};

/* One "key = value" line. Returns 0, or -EINVAL with why (no file:line:
 * the caller adds it). */
static int entry(struct reading *R, const struct zc__conf_entry *e, char *why,
                 size_t size)
{
    const struct zc__opt *r = zc__opt_find(e->key);
    const char *near;
    char **words = NULL, reason[200];
    int n;

    if (strcmp(e->key, "command") == 0) {
        if (R->command_line)
            return zc__why(why, size,
                           "command given twice (first at line "
                           "%u)",
                           R->command_line);
        R->command_line = e->line;
        n = zc__conf_words(e->value, &words, reason, sizeof(reason));
        if (n < 0)
            return zc__why(why, size, "command: %s", reason);
        if (!keep(R->c, words))
            return zc__why(why, size, "no memory");
        if (!R->keep_command)
            R->o->command = words;
        return 0;
    }
    if (!r || strcmp(e->key, "config") == 0) {
        near = r ? NULL : nearest_key(e->key);
        return zc__why(why, size, "unknown option '%s'%s%s%s", e->key,
                       near ? " (did you mean '" : "", near ? near : "",
                       near ? "'?)" : "");
    }
    {
        size_t i = (size_t) (r - zc__opt_at(0));

        if (!r->info.repeatable && i < 96 && R->seen[i])
            return zc__why(why, size,
                           "%s given twice (first at line %u): "
                           "only listen and env may repeat",
                           e->key, R->seen[i]);
        if (i < 96)
            R->seen[i] = e->line;
    }
    n = zc__conf_words(e->value, &words, reason, sizeof(reason));
    if (n < 0)
        return zc__why(why, size, "%s: %s", e->key, reason);
    if (!keep(R->c, words))
        return zc__why(why, size, "no memory");
    if (n > 1)
        return zc__why(why, size,
                       "%s: expected one value, not %d words "
                       "(quote a value with blanks: '...')",
                       e->key, n);
    if (set_word(R->o, r, words[0], why, size) < 0)
        return -EINVAL;
    return 0;
}

/* The overrides: "name=value" or "name", then "--" and a command. */
static int apply_overrides(struct reading *R, char *why, size_t size)
{
    char **v = R->c->overrides;
    zc_options *o = R->o;

    /* A list given here replaces the file's (the command's words, after
     * "--", are not options). */
    for (size_t i = 0; v[i] && strcmp(v[i], "--") != 0; i++) {
        if (strncmp(v[i], "listen=", 7) == 0)
            o->n_listen = 0;
        if (strncmp(v[i], "env=", 4) == 0)
            o->n_env = 0;
    }
    for (size_t i = 0; v[i]; i++) {
        char *eq, name[64];

        if (strcmp(v[i], "--") == 0) {
            if (v[i + 1])
                o->command = &v[i + 1];
            return 0;
        }
        eq = strchr(v[i], '=');
        snprintf(name, sizeof(name), "%.*s",
                 (int) (eq ? (size_t) (eq - v[i]) : strlen(v[i])), v[i]);
        if (zc_option_set(o, name, eq ? eq + 1 : NULL, why, size) < 0) {
            if (!zc__opt_find(name))
                return zc__why(why, size, "unknown option '%s'", name);
            return -EINVAL;
        }
    }
    return 0;
}

static char **copy_argv(struct zc_config *c, char *const *v)
{
    size_t n = 0;
    char **out;

    while (v && v[n])
        n++;
    out = keep(c, calloc(n + 1, sizeof(*out)));
    for (size_t i = 0; out && i < n; i++)
        if (!(out[i] = keep_str(c, v[i])))
            return NULL;
    return out;
}

/* The options in text (len bytes, named name in what is said), the
 * overrides laid over them, into o: c's from here. NULL with why. */
static zc_config *load(struct zc_config *c, zc_options *o, const char *name,
                       const char *text, size_t len, char *why, size_t why_size)
{
    struct reading R = { .o = o, .path = name, .c = c };
    char reason[256];
    unsigned line = 0;

    if (zc__conf_parse(&c->conf, text, len, &line, reason, sizeof(reason)) <
        0) {
        if (line)
            zc__why(why, why_size, "%s:%u: %s", name, line, reason);
        else
            zc__why(why, why_size, "%s: %s", name, reason);
        goto fail;
    }
    if (c->conf.n == 0) {
        zc__why(why, why_size,
                "%s: no options in it: expected 'name = "
                "value' lines, such as 'command = ./server'",
                name);
        goto fail;
    }
    for (size_t i = 0; c->overrides[i]; i++)
        R.keep_command |=
            strcmp(c->overrides[i], "--") == 0 && c->overrides[i + 1];
    o->listen = NULL;
    o->n_listen = 0;
    o->listen_room = c->listen_room;
    o->env = NULL;
    o->n_env = 0;
    o->env_room = c->env_room;
    for (size_t i = 0; i < c->conf.n; i++)
        if (entry(&R, &c->conf.e[i], reason, sizeof(reason)) < 0) {
            zc__why(why, why_size, "%s:%u: %s", name, c->conf.e[i].line,
                    reason);
            goto fail;
        }
    if (apply_overrides(&R, reason, sizeof(reason)) < 0) {
        zc__why(why, why_size, "%s (on the command line, over %s)", reason,
                name);
        goto fail;
    }
    o->config = c->path;
    o->config_overrides = c->overrides;
    return c;
fail:
    zc_config_free(c);
    return NULL;
}

zc_config *zc_config_load(zc_options *o, const char *path,
                          char *const *overrides, char *why, size_t why_size)
{
    struct zc_config *c;
    char *text = NULL;
    size_t len = 0;

    /* A program built against 0.4.0's header or a later one: the fields
     * this writes are 0.4.0's. */
    if (!o || !path ||
        o->struct_size < offsetof(zc_options, config_overrides) +
                             sizeof(o->config_overrides)) {
        zc__why(why, why_size,
                "zc_config_load: needs options from this "
                "library's header and a path");
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (!c || !(c->path = keep(c, absolute(path))) ||
        !(c->overrides = copy_argv(c, overrides))) {
        zc_config_free(c);
        zc__why(why, why_size, "%s: no memory", path);
        return NULL;
    }
    if (read_file(path, &text, &len, why, why_size) < 0) {
        zc_config_free(c);
        return NULL;
    }
    c = load(c, o, path, text, len, why, why_size);
    free(text);
    return c;
}

zc_config *zc__config_load_text(zc_options *o, const char *name,
                                const char *text, size_t len, char *why,
                                size_t why_size)
{
    struct zc_config *c = calloc(1, sizeof(*c));

    if (!c || !(c->path = keep_str(c, name)) ||
        !(c->overrides = copy_argv(c, NULL))) {
        zc_config_free(c);
        zc__why(why, why_size, "%s: no memory", name);
        return NULL;
    }
    return load(c, o, name, text, len, why, why_size);
}

void zc__conf_next_drop(struct conf_next *n)
{
    if (n->set)
        zc_config_free(n->owner);
    n->set = false;
    n->owner = NULL;
}

unsigned zc__config_line(const zc_config *c, const char *key)
{
    for (size_t i = 0; c && i < c->conf.n; i++)
        if (strcmp(c->conf.e[i].key, key) == 0)
            return c->conf.e[i].line;
    return 0;
}

static bool text_field(enum zc__opt_kind k)
{
    return k == ZC__OPT_ADDRESS || k == ZC__OPT_NAME || k == ZC__OPT_PATH ||
           k == ZC__OPT_GROUP || k == ZC__OPT_USER || k == ZC__OPT_DIR;
}

static const char **copy_list(struct zc_config *c, const char **room,
                              const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(room[i] = keep_str(c, v[i])))
            return NULL;
    return room;
}

zc_config *zc__config_copy(const zc_options *in, zc_options *o, char *why,
                           size_t size)
{
    struct zc_config *c;
    const struct zc__opt *r;
    bool ok;

    if (zc__options_import(o, in, why, size) < 0)
        return NULL;
    if (o->n_listen > ZC_MAX_LISTEN || o->n_env > ZC_MAX_ENV ||
        (o->n_listen && !o->listen) || (o->n_env && !o->env)) {
        zc__why(why, size,
                "listen or env: more entries than the struct "
                "holds, or none where it says some");
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    ok = c != NULL;
    for (size_t i = 0; ok && (r = zc__opt_at(i)); i++) {
        const char **f = (const char **) ((char *) o + r->offset);

        if (text_field(r->kind) && *f)
            ok = (*f = keep_str(c, *f)) != NULL;
    }
    ok = ok &&
         (!o->n_listen ||
          (o->listen = copy_list(c, c->listen_room, o->listen, o->n_listen)));
    ok = ok &&
         (!o->n_env || (o->env = copy_list(c, c->env_room, o->env, o->n_env)));
    ok = ok && (!o->command || (o->command = copy_argv(c, o->command)));
    ok = ok && (!o->config || (o->config = keep_str(c, o->config)));
    ok = ok && (!o->config_overrides ||
                (o->config_overrides = copy_argv(c, o->config_overrides)));
    if (!ok) {
        zc_config_free(c);
        zc__why(why, size, "no memory");
        return NULL;
    }
    o->listen_room = c->listen_room;
    o->env_room = c->env_room;
    return c;
}

/* A word as the file's reader takes it back: as it is when it holds only
 * what a shell leaves alone, else in single quotes. */
static void quoted(struct zc__buf *b, const char *s)
{
    bool plain = *s != '\0';

    for (const char *u = s; *u && plain; u++)
        plain = (*u >= 'a' && *u <= 'z') || (*u >= 'A' && *u <= 'Z') ||
                (*u >= '0' && *u <= '9') || strchr("_@%+=:,./-", *u);
    if (plain) {
        zc__buf_add(b, s, strlen(s));
        return;
    }
    ZC__BUF_LIT(b, "'");
    for (; *s; s++)
        if (*s == '\'')
            ZC__BUF_LIT(b, "'\\''");
        else
            zc__buf_add(b, s, 1);
    ZC__BUF_LIT(b, "'");
}

static void line(struct zc__buf *b, const char *name, const char *value)
{
    zc__buf_printf(b, "%s = ", name);
    quoted(b, value);
    ZC__BUF_LIT(b, "\n");
}

char *zc_config_format(const zc_options *in)
{
    struct zc__buf b = { 0 };
    const struct zc__opt *r;
    zc_options o, d;
    char v[512], dv[512];

    if (zc__options_import(&o, in, NULL, 0) < 0)
        return NULL;
    zc_options_init(&d);
    for (size_t i = 0; (r = zc__opt_at(i)); i++) {
        if (r->kind == ZC__OPT_LISTEN || r->kind == ZC__OPT_ENV)
            continue;
        if (r->kind == ZC__OPT_FLAG) {
            if (*(const bool *) ((const char *) &o + r->offset))
                line(&b, r->info.name, "on");
            continue;
        }
        if (r->offset == offsetof(zc_options, workers) && !o.workers)
            continue;
        (void) zc_option_format(&o, r->info.name, v, sizeof(v));
        (void) zc_option_format(&d, r->info.name, dv, sizeof(dv));
        if (strcmp(v, dv) != 0 || r->offset == offsetof(zc_options, workers))
            line(&b, r->info.name, v);
    }
    for (size_t i = 0; i < o.n_listen; i++)
        line(&b, "listen", o.listen[i]);
    for (size_t i = 0; i < o.n_env; i++)
        line(&b, "env", o.env[i]);
    if (o.command && o.command[0]) {
        ZC__BUF_LIT(&b, "command =");
        for (size_t i = 0; o.command[i]; i++) {
            ZC__BUF_LIT(&b, " ");
            quoted(&b, o.command[i]);
        }
        ZC__BUF_LIT(&b, "\n");
    }
    ZC__BUF_LIT(&b, "");
    if (b.failed || !b.data) {
        free(b.data);
        return b.failed ? NULL : strdup("");
    }
    zc__buf_add(&b, "", 1); /* the terminating NUL */
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    return b.data;
}
