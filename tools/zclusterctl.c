/*
 * zclusterctl: ask a running fleet through its control socket
 * (docs/control.md, docs/zclusterctl.1). A thin shell over the library's
 * client calls: it turns a verb into a request, prints what comes back,
 * and exits by the outcome.
 *
 * Exit status, the same for every verb: 0 done; 1 the operation failed;
 * 2 usage; 3 no such fleet, or it cannot be reached; 4 permission denied;
 * 5 waited past --timeout (the operation goes on).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "zcluster.h"

enum { EX_DONE, EX_FAILED, EX_USAGE, EX_NOFLEET, EX_DENIED, EX_TIMEOUT };

#define MAX_FLEETS 256

struct opts {
    const char *name, *socket;
    bool json, no_wait, help;
    bool follow;                /* logs -f */
    bool reload;                /* upgrade --reload */
    const char *lines;          /* logs -n LINES */
    long timeout_ms;            /* -1: the verb's default */
    const char *verb;
    char **args;
    int n_args;
};

/* What one request's lines are read into. */
struct answer {
    const struct opts *o;
    const char *fleet;
    bool stream;                /* JSON lines, told in words */
    bool raw;  /* status, metrics, config: the body is the output */
    bool logs; /* the body is a fleet's output lines */
    bool ok, over;              /* the outcome line: ok, and it came */
    long pid;                   /* a stop's primary */
    char error[512];            /* an error answer's "error" */
};

/* A request to the fleet, as a verb makes it. */
struct request {
    const char *method;
    char target[4200];
    bool stream;                /* JSON lines until the outcome */
    bool raw;                   /* the body is the output */
};

/* Makes the verb's request from o's arguments: 0, or a usage error. */
typedef int (*build_fn)(const struct opts *o, struct request *q);

static int build_get(const struct opts *o, struct request *q);
static int build_plain(const struct opts *o, struct request *q);
static int build_scale(const struct opts *o, struct request *q);
static int build_restart(const struct opts *o, struct request *q);
static int build_signal(const struct opts *o, struct request *q);
static int build_logs(const struct opts *o, struct request *q);

/* Every verb, once: --help, the "no verb" hint and the dispatch read it. */
static const struct verb {
    const char *name, *args, *help;
    build_fn build;             /* NULL: list, answered here */
} verbs[] = {
    { "list", "", "fleets on this machine this user may control", NULL },
    { "status", "", "a table of the fleet's slots and workers", build_get },
    { "reload", "[--no-wait]", "rolling reload; exits with its outcome",
      build_plain },
    { "scale", "N|+N|-N [--no-wait]", "waits until that many workers are ready",
      build_scale },
    { "restart", "SLOT...", "replace these slots' workers, new one first",
      build_restart },
    { "signal", "SIG [SLOT...]", "send SIG to the workers (of these slots)",
      build_signal },
    { "stop", "[--no-wait]", "graceful shutdown; waits until the primary exits",
      build_plain },
    { "metrics", "", "the fleet's /metrics text", build_get },
    { "logs", "[SLOT...] [-f] [-n LINES]",
      "the workers' recent lines (of these slots), then follow with -f",
      build_logs },
    { "config", "", "the running options, as a file --config reads back",
      build_get },
    { "upgrade", "[--reload] [--no-wait]",
      "the primary executes its binary anew, keeping the fleet", NULL },
};
#define N_VERBS (sizeof(verbs) / sizeof(verbs[0]))

static const struct verb *verb_named(const char *name)
{
    for (size_t i = 0; i < N_VERBS; i++)
        if (strcmp(verbs[i].name, name) == 0)
            return &verbs[i];
    return NULL;
}

static const char usage_head[] =
    "usage: zclusterctl [-n NAME | -s SOCKET] [--json] [--timeout DUR] "
    "VERB [ARGS]\n"
    "\n";
static const char usage_tail[] =
    "\n"
    "  -n, --name NAME     the fleet (default: the only one running)\n"
    "  -s, --socket PATH   its control socket, instead of finding it by name\n"
    "      --json          JSON on stdout (status: the document; others: "
    "the lines)\n"
    "      --timeout DUR   stop waiting after DUR (250ms, 20s, 5m): exit 5\n"
    "      --no-wait       start a long operation and return\n"
    "\n"
    "exit: 0 done, 1 failed, 2 usage, 3 no such fleet, 4 permission denied,\n"
    "5 timed out (the operation goes on)\n";

static void print_usage(void)
{
    char both[64];

    fputs(usage_head, stdout);
    for (size_t i = 0; i < N_VERBS; i++) {
        snprintf(both, sizeof(both), "%s %s", verbs[i].name, verbs[i].args);
        printf("  %-26s %s\n", both, verbs[i].help);
    }
    fputs(usage_tail, stdout);
}

static int usage(const char *fmt, ...) ZC_PRINTF(1, 2);

static int usage(const char *fmt, ...)
{
    va_list ap;

    fputs("zclusterctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'zclusterctl --help'.\n", stderr);
    return EX_USAGE;
}

/* "250", "250ms", "20s", "5m": ms, or -1. */
static long duration_ms(const char *s)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || v < 0 || v > 86400e3)
        return -1;
    if (strcmp(end, "") == 0 || strcmp(end, "ms") == 0)
        return (long) v;
    if (strcmp(end, "s") == 0)
        return (long) (v * 1000);
    if (strcmp(end, "m") == 0 && v <= 1440)
        return (long) (v * 60000);
    return -1;
}

/* A number with a sign is an argument ("scale -1"), not an option. */
static bool is_number(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    static char *positional[256];

    *o = (struct opts) { .timeout_ms = -1, .args = positional };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;

        if (a[0] != '-' || is_number(a) || strcmp(a, "-") == 0) {
            if (!o->verb)
                o->verb = a;
            else if (o->n_args < 256)
                positional[o->n_args++] = argv[i];
            else
                return usage("%s", "too many arguments");
            continue;
        }
        /* After logs, -n is a count of lines, as journalctl and tail
         * take it; before the verb it names the fleet. */
        if (o->verb && strcmp(o->verb, "logs") == 0 &&
            (!strcmp(a, "-f") || !strcmp(a, "--follow"))) {
            o->follow = true;
            continue;
        }
        if (o->verb && strcmp(o->verb, "logs") == 0 &&
            (!strcmp(a, "-n") || !strcmp(a, "--lines") ||
             !strncmp(a, "--lines=", 8))) {
            if (a[1] == '-' && a[7] == '=')
                o->lines = a + 8;
            else if (i + 1 < argc)
                o->lines = argv[++i];
            else
                return usage("option '%s' requires an argument", a);
            if (!is_number(o->lines) || o->lines[0] == '-' ||
                o->lines[0] == '+' || strlen(o->lines) > 6)
                return usage("invalid number of lines '%s'", o->lines);
            continue;
        }
        if (o->verb && strcmp(o->verb, "upgrade") == 0 &&
            strcmp(a, "--reload") == 0) {
            o->reload = true;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            o->help = true;
        } else if (strcmp(a, "--version") == 0) {
            printf("zclusterctl %s\n", ZC_VERSION);
            exit(EX_DONE);
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--no-wait") == 0) {
            o->no_wait = true;
        } else if (!strcmp(a, "-n") || !strcmp(a, "--name") ||
                   !strcmp(a, "-s") || !strcmp(a, "--socket") ||
                   !strcmp(a, "--timeout") || !strncmp(a, "--name=", 7) ||
                   !strncmp(a, "--socket=", 9) ||
                   !strncmp(a, "--timeout=", 10)) {
            v = strchr(a, '=');
            if (v)
                v++;
            else if (i + 1 < argc)
                v = argv[++i];
            else
                return usage("option '%s' requires an argument", a);
            if (a[1] == 'n' || !strncmp(a, "--name", 6)) {
                o->name = v;
            } else if (a[1] == 's' || !strncmp(a, "--socket", 8)) {
                o->socket = v;
            } else if ((o->timeout_ms = duration_ms(v)) < 0) {
                return usage("invalid --timeout '%s': expected 250ms, 20s "
                             "or 5m", v);
            }
        } else {
            return usage("unknown option '%s'", a);
        }
    }
    return -1;
}

/* --- printing what comes back --- */

/*
 * Writes n bytes of s for a terminal: nothing in them may act on it (a
 * title set, the cursor moved), whoever wrote them. Control bytes but tab
 * and DEL go out as \xHH; the one escape sequence let through is a colour
 * (ESC [ digits and ; m), which the status table asks for on a terminal.
 */
static void put_safe(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];
        size_t k = i + 2;

        if (c == 0x1b && i + 1 < n && s[i + 1] == '[') {
            while (k < n && ((s[k] >= '0' && s[k] <= '9') || s[k] == ';'))
                k++;
            if (k < n && s[k] == 'm') {
                fwrite(s + i, 1, k + 1 - i, f);
                i = k;
                continue;
            }
        }
        if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
}

static void say(const struct answer *a, const char *msg)
{
    put_safe(stderr, a->fleet, strlen(a->fleet));
    fputs(": ", stderr);
    put_safe(stderr, msg, strlen(msg));
    fputc('\n', stderr);
}

static int on_line(const char *line, size_t len, void *ud)
{
    struct answer *a = ud;
    char msg[1024], v[64];

    /* A worker's line may be JSON with an "error" of its own: only the
     * fleet's answer has a version and no zc_time. */
    if (a->logs) {
        if (zc_control_field(line, len, "version", v, sizeof(v)) >= 0 &&
            zc_control_field(line, len, "zc_time", v, sizeof(v)) < 0 &&
            zc_control_field(line, len, "error", a->error, sizeof(a->error)) >=
                0)
            return 0;
        put_safe(stdout, line, len);
        fputc('\n', stdout);
        if (a->o->follow)
            fflush(stdout);
        return 0;
    }
    if (zc_control_field(line, len, "error", a->error, sizeof(a->error)) >= 0)
        return 0;
    if (a->raw || a->o->json) {
        put_safe(stdout, line, len);
        fputc('\n', stdout);
    }
    if (a->raw)
        return 0;
    if (zc_control_field(line, len, "pid", v, sizeof(v)) > 0 &&
        zc_control_field(line, len, "event", msg, sizeof(msg)) > 0 &&
        strcmp(msg, "stopping") == 0)
        a->pid = strtol(v, NULL, 10);
    if (zc_control_field(line, len, "event", v, sizeof(v)) > 0 &&
        strcmp(v, "outcome") == 0) {
        a->over = true;
        a->ok = zc_control_field(line, len, "ok", v, sizeof(v)) > 0 &&
                strcmp(v, "true") == 0;
    }
    if (!a->o->json &&
        zc_control_field(line, len, "message", msg, sizeof(msg)) >= 0)
        say(a, msg);
    return 0;
}

/* --- finding the fleet --- */

static int find(const struct opts *o, char *path, size_t size,
                const char **fleet)
{
    static char found[ZC_CONTROL_NAME_MAX + 1];
    zc_control_fleet f[MAX_FLEETS];
    size_t n = 0;
    int r;

    if (o->socket) {
        snprintf(path, size, "%s", o->socket);
        *fleet = o->name ? o->name : o->socket;
        return 0;
    }
    if (o->name) {
        r = zc_control_path(o->name, path, size);
        if (r == -EINVAL)
            return usage("invalid fleet name '%s'", o->name);
        *fleet = o->name;
        return r < 0 ? EX_NOFLEET : 0;
    }
    r = zc_control_list(f, MAX_FLEETS, &n);
    if (r < 0 || n == 0) {
        fprintf(stderr, "zclusterctl: no fleet is running that this user may "
                "control (give -n NAME or -s SOCKET)\n");
        return EX_NOFLEET;
    }
    if (n > 1) {
        fprintf(stderr, "zclusterctl: %zu fleets are running; say which with "
                "-n NAME:\n", n);
        for (size_t i = 0; i < n && i < MAX_FLEETS; i++)
            fprintf(stderr, "  %s (pid %ld)\n", f[i].name, f[i].pid);
        return EX_USAGE;
    }
    snprintf(path, size, "%s", f[0].path);
    /* f is ours alone: the name the answers are told under outlives it. */
    snprintf(found, sizeof(found), "%s", f[0].name);
    *fleet = found;
    return 0;
}

static int list(const struct opts *o)
{
    zc_control_fleet f[MAX_FLEETS];
    size_t n = 0;
    int r = zc_control_list(f, MAX_FLEETS, &n);

    if (r < 0 && r != -ENOENT) {
        fprintf(stderr, "zclusterctl: cannot list fleets: %s\n",
                zc_strerror(r));
        return EX_NOFLEET;
    }
    if (o->json) {
        printf("[");
        for (size_t i = 0; i < n && i < MAX_FLEETS; i++)
            printf("%s{\"name\": \"%s\", \"pid\": %ld, \"socket\": \"%s\"}",
                   i ? ", " : "", f[i].name, f[i].pid, f[i].path);
        printf("]\n");
    } else {
        if (n)
            printf("%-24s %-8s %s\n", "NAME", "PID", "SOCKET");
        for (size_t i = 0; i < n && i < MAX_FLEETS; i++)
            printf("%-24s %-8ld %s\n", f[i].name, f[i].pid, f[i].path);
    }
    return EX_DONE;
}

/* A socket this user may not use: whose it is, and what would do. */
static int denied(const char *path, int r)
{
    struct stat st;

    if (r == -EPERM) {
        fprintf(stderr, "zclusterctl: not speaking to %s: its directory may "
                "be written by anybody, so the socket could be anybody's; "
                "give the fleet a --control PATH in a directory only it may "
                "write to\n", path);
        return EX_DENIED;
    }
    if (stat(path, &st) == 0)
        fprintf(stderr, "zclusterctl: permission denied: %s belongs to uid "
                "%lu (mode %04o); run zclusterctl as that user or root, or "
                "start the fleet with --control-group GROUP and be a member "
                "of GROUP\n", path, (unsigned long) st.st_uid,
                (unsigned) (st.st_mode & 0777));
    else
        fprintf(stderr, "zclusterctl: permission denied: %s (only root, the "
                "fleet's user and its control group may use it)\n", path);
    return EX_DENIED;
}

/* --- verbs into requests --- */

static int join_slots(const struct opts *o, int from, char *out, size_t size)
{
    size_t n = 0;

    out[0] = '\0';
    for (int i = from; i < o->n_args; i++) {
        if (!is_number(o->args[i]) || o->args[i][0] == '-' ||
            o->args[i][0] == '+')
            return usage("invalid slot '%s': expected a number", o->args[i]);
        n += (size_t) snprintf(out + n, n < size ? size - n : 0, "%s%s",
                               n ? "," : "", o->args[i]);
        if (n >= size)
            return usage("%s", "too many slots");
    }
    return 0;
}

/* status, metrics, config: a GET whose body is the output. */
static int build_get(const struct opts *o, struct request *q)
{
    if (o->n_args)
        return usage("%s takes no arguments", o->verb);
    q->method = "GET";
    q->stream = false;
    q->raw = true;
    if (!strcmp(o->verb, "metrics") || !strcmp(o->verb, "config"))
        snprintf(q->target, sizeof(q->target), "/%s", o->verb);
    else if (o->json)
        snprintf(q->target, sizeof(q->target), "/status");
    else
        snprintf(q->target, sizeof(q->target), "/status?format=text&color=%d",
                 isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
    return 0;
}

/* logs [SLOT...] [-f] [-n LINES]: the body is the lines, as they come. */
static int build_logs(const struct opts *o, struct request *q)
{
    char slots[4096];
    int r;

    if ((r = join_slots(o, 0, slots, sizeof(slots))))
        return r;
    q->method = "GET";
    q->stream = o->follow;
    snprintf(q->target, sizeof(q->target), "/logs?lines=%s%s%s%s",
             o->lines ? o->lines : "10", slots[0] ? "&slots=" : "", slots,
             o->follow ? "&follow=1" : "");
    return 0;
}

/* reload, stop: no arguments, a stream unless --no-wait. */
static int build_plain(const struct opts *o, struct request *q)
{
    if (o->n_args)
        return usage("%s takes no arguments", o->verb);
    snprintf(q->target, sizeof(q->target), "/%s%s", o->verb,
             o->no_wait ? "?wait=0" : "");
    return 0;
}

static int build_scale(const struct opts *o, struct request *q)
{
    if (o->n_args != 1 || !is_number(o->args[0]))
        return usage("%s", "scale takes one number: N, +N or -N");
    snprintf(q->target, sizeof(q->target), "/scale?to=%s%s%s",
             o->args[0][0] == '+' ? "%2B" : "",
             o->args[0] + (o->args[0][0] == '+'), o->no_wait ? "&wait=0" : "");
    return 0;
}

static int build_restart(const struct opts *o, struct request *q)
{
    char slots[4096];
    int r;

    if (o->n_args < 1)
        return usage("%s", "restart takes one or more slots");
    if ((r = join_slots(o, 0, slots, sizeof(slots))))
        return r;
    snprintf(q->target, sizeof(q->target), "/restart?slots=%s%s", slots,
             o->no_wait ? "&wait=0" : "");
    return 0;
}

static int build_signal(const struct opts *o, struct request *q)
{
    char slots[4096];
    int r;

    if (o->n_args < 1)
        return usage("%s",
                     "signal takes a signal and slots: signal USR1 [SLOT...]");
    for (const char *c = o->args[0]; *c; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
              (*c >= '0' && *c <= '9') || *c == '+' || *c == '-'))
            return usage("invalid signal '%s'", o->args[0]);
    if ((r = join_slots(o, 1, slots, sizeof(slots))))
        return r;
    snprintf(q->target, sizeof(q->target), "/signal?signal=%s%s%s", o->args[0],
             slots[0] ? "&slots=" : "", slots);
    q->stream = false;
    return 0;
}

/* --- upgrade --- */

static int by_status(struct answer *a, int status);

/* GET /upgrade's fields (and POST's serial or error). */
struct upgrade_seen {
    long long serial;
    char outcome[16], reload[16], away[32];
    char message[512], reload_message[512], error[512];
};

static int on_upgrade_line(const char *line, size_t len, void *ud)
{
    struct upgrade_seen *u = ud;
    char v[32];

    if (zc_control_field(line, len, "upgrade", v, sizeof(v)) > 0)
        u->serial = strtoll(v, NULL, 10);
    (void) zc_control_field(line, len, "outcome", u->outcome,
                            sizeof(u->outcome));
    (void) zc_control_field(line, len, "reload_outcome", u->reload,
                            sizeof(u->reload));
    (void) zc_control_field(line, len, "away_ms", u->away, sizeof(u->away));
    (void) zc_control_field(line, len, "message", u->message,
                            sizeof(u->message));
    (void) zc_control_field(line, len, "reload_message", u->reload_message,
                            sizeof(u->reload_message));
    (void) zc_control_field(line, len, "error", u->error, sizeof(u->error));
    return 0;
}

static int ask_upgrade(const char *path, const char *method, const char *target,
                       struct upgrade_seen *u)
{
    *u = (struct upgrade_seen) { .serial = -1 };
    return zc_control_request(path, method, target, 10000, on_upgrade_line, u);
}

/*
 * The primary answers 202 with the upgrade's serial and executes its new
 * image; every connection but the listening socket ends with the old one.
 * So the outcome is asked for again (GET /upgrade), from whichever image
 * answers, until that serial has one: the socket is never closed, so the
 * question waits in its backlog while no image is listening.
 */
static int upgrade(const struct opts *o, const char *path, const char *fleet)
{
    struct answer a = { .o = o, .fleet = fleet };
    long limit = o->timeout_ms > 0 ? o->timeout_ms : 300000;
    struct timespec t0, now, nap = { 0, 20 * 1000 * 1000 };
    struct upgrade_seen u;
    long long target;
    int r;

    if (o->n_args)
        return usage("%s", "upgrade takes no arguments but --reload");
    /* A connection the primary had taken when it executed an image (an
     * upgrade asked for by someone else) ends with no answer: ask again. */
    for (int i = 0; i < 50; i++) {
        r = ask_upgrade(path, "GET", "/upgrade", &u);
        if (r >= 0 || r == -ENOENT || r == -ECONNREFUSED || r == -EACCES ||
            r == -EPERM)
            break;
        nanosleep(&nap, NULL);
    }
    if (r == -EACCES || r == -EPERM)
        return denied(path, r);
    if (r < 0) {
        fprintf(stderr, "zclusterctl: no fleet %s: %s\n", fleet,
                zc_strerror(r));
        return EX_NOFLEET;
    }
    target = u.serial + 1;
    r = ask_upgrade(path, "POST", o->reload ? "/upgrade?reload=1" : "/upgrade",
                    &u);
    snprintf(a.error, sizeof(a.error), "%s", u.error);
    if (r >= 400)
        return by_status(&a, r);
    if (r == 202 && u.serial > 0)
        target = u.serial;
    if (!o->json && r == 202 && u.message[0])
        say(&a, u.message);
    if (o->no_wait)
        return EX_DONE;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        r = ask_upgrade(path, "GET", "/upgrade", &u);
        /* Across the exec the socket stays open: nobody listening on it
         * means the primary is gone. */
        if (r == -ECONNREFUSED || r == -ENOENT) {
            fprintf(stderr,
                    "zclusterctl: %s: the primary is gone: nothing "
                    "listens on %s\n",
                    fleet, path);
            return EX_FAILED;
        }
        if (r == 200 && u.serial >= target && strcmp(u.outcome, "failed") == 0)
            break;
        if (r == 200 && u.serial >= target && strcmp(u.outcome, "done") == 0 &&
            (!o->reload || strcmp(u.reload, "pending") != 0))
            break;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - t0.tv_sec) * 1000 +
                (now.tv_nsec - t0.tv_nsec) / 1000000 >
            limit) {
            fprintf(stderr,
                    "zclusterctl: %s: upgrade %lld has no outcome "
                    "within the timeout\n",
                    fleet, target);
            return EX_TIMEOUT;
        }
        nanosleep(&nap, NULL);
    }
    if (o->json)
        printf("{\"upgrade\": %lld, \"outcome\": \"%s\", \"reload\": "
               "\"%s\", \"away_ms\": %s}\n",
               u.serial, u.outcome, u.reload, u.away[0] ? u.away : "0");
    else
        say(&a, u.message);
    if (strcmp(u.outcome, "done") != 0)
        return EX_FAILED;
    if (o->reload && !o->json)
        say(&a, u.reload_message);
    return o->reload && strcmp(u.reload, "done") != 0 ? EX_FAILED : EX_DONE;
}

/* "list, status, reload, ...": every verb, for the hint. */
static void verb_list(char *out, size_t size)
{
    size_t n = 0;

    out[0] = '\0';
    for (size_t i = 0; i < N_VERBS && n < size; i++)
        n += (size_t) snprintf(out + n, size - n, "%s%s", i ? ", " : "",
                               verbs[i].name);
}

/* A stop is done when the primary has exited, not when its socket closes. */
static int wait_exit(long pid, long timeout_ms)
{
    long waited = 0;
    int fd = (int) syscall(SYS_pidfd_open, (pid_t) pid, 0);

    if (fd >= 0) {
        struct pollfd pf = { .fd = fd, .events = POLLIN };
        int r = poll(&pf, 1, timeout_ms > 0 ? (int) timeout_ms : -1);

        (void) close(fd);
        return r == 1 ? 0 : -ETIMEDOUT;
    }
    while (kill((pid_t) pid, 0) == 0 || errno == EPERM) {
        struct timespec ts = { 0, 10 * 1000 * 1000 };

        if (timeout_ms > 0 && waited >= timeout_ms)
            return -ETIMEDOUT;
        nanosleep(&ts, NULL);
        waited += 10;
    }
    return 0;
}

static int by_status(struct answer *a, int status)
{
    if (status == 403) {
        say(a, a->error[0] ? a->error : "permission denied");
        return EX_DENIED;
    }
    /* 409: not now (shutting down); 422: the fleet's own configuration
     * refused it. Neither is the caller's usage. */
    if (status >= 400 && status < 500 && status != 409 && status != 422) {
        say(a, a->error[0] ? a->error
                           : "the fleet did not understand the request");
        return EX_USAGE;
    }
    if (status >= 400) {
        say(a, a->error[0] ? a->error : "the operation failed");
        return EX_FAILED;
    }
    return -1;
}

int main(int argc, char **argv)
{
    struct opts o;
    struct answer a = { .o = &o };
    struct request q = { .method = "POST" };
    const struct verb *v;
    char path[sizeof(((struct sockaddr_un *) 0)->sun_path)], names[128];
    long timeout;
    int r = parse_args(argc, argv, &o);

    if (r >= 0)
        return r;
    if (o.help) {
        print_usage();
        return EX_DONE;
    }
    verb_list(names, sizeof(names));
    if (!o.verb)
        return usage("no verb given (%s)", names);
    if (!(v = verb_named(o.verb)))
        return usage("unknown verb '%s' (%s)", o.verb, names);
    if (!v->build && strcmp(v->name, "upgrade") == 0) {
        if ((r = find(&o, path, sizeof(path), &a.fleet)))
            return r;
        return upgrade(&o, path, a.fleet);
    }
    if (!v->build)
        return o.n_args ? usage("%s", "list takes no arguments") : list(&o);
    q.stream = !o.no_wait;
    if ((r = v->build(&o, &q)))
        return r;
    a.stream = q.stream;
    a.raw = q.raw;
    a.logs = v->build == build_logs;
    if ((r = find(&o, path, sizeof(path), &a.fleet)))
        return r;
    /* Short questions get 10 s; waits have no limit unless told. */
    timeout = o.timeout_ms >= 0 ? o.timeout_ms : a.stream ? 0 : 10000;
    r = zc_control_request(path, q.method, q.target, (uint32_t) timeout,
                           on_line, &a);
    fflush(stdout);
    if (r == -ENOENT || r == -ECONNREFUSED) {
        fprintf(stderr, "zclusterctl: no fleet %s: nothing listens on %s\n",
                a.fleet, path);
        return EX_NOFLEET;
    }
    if (r == -EACCES || r == -EPERM)
        return denied(path, r);
    if (r == -ETIMEDOUT) {
        fprintf(stderr, "zclusterctl: %s: no outcome within the timeout; the "
                "operation goes on\n", a.fleet);
        return EX_TIMEOUT;
    }
    /* The primary of a stop may exit before its last line is out. */
    if (r < 0 && !(a.pid > 0 && r == -EPROTO)) {
        fprintf(stderr, "zclusterctl: %s: %s\n", a.fleet, zc_strerror(r));
        return r == -EPROTO ? EX_FAILED : EX_NOFLEET;
    }
    if (r >= 0 && (r = by_status(&a, r)) >= 0)
        return r;
    if (a.pid > 0) {
        if (wait_exit(a.pid, timeout) < 0) {
            fprintf(stderr, "zclusterctl: %s: the primary (pid %ld) has not "
                    "exited within the timeout; it goes on stopping\n",
                    a.fleet, a.pid);
            return EX_TIMEOUT;
        }
        return EX_DONE;
    }
    if (a.logs)
        return EX_DONE; /* followed until the fleet ended */
    if (a.stream && !a.over) {
        say(&a, "the connection closed before the outcome");
        return EX_FAILED;
    }
    return a.stream && !a.ok ? EX_FAILED : EX_DONE;
}
