/* Processes under test: start, read their output, wait for lines and
 * exits, all against deadlines (pidfd + poll, never a sleep). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

#define MAX_PROCS 16

static struct zt_proc *procs[MAX_PROCS];

void zt_dump_procs(void);

void zt_dump_procs(void)
{
    for (int i = 0; i < MAX_PROCS; i++) {
        struct zt_proc *p = procs[i];
        const char *s;

        if (!p)
            continue;
        zt_pump(p, 0);
        s = p->len > 6000 ? p->log + p->len - 6000 : p->log;
        printf("# --- output of pid %d ---\n", (int) p->pid);
        for (const char *l = s; *l;) {
            size_t n = strcspn(l, "\n");

            printf("#   %.*s\n", (int) n, l);
            l += n + (l[n] == '\n');
        }
    }
}

/* ZC_TEST_VALGRIND=1: every zcluster a test starts runs under valgrind,
 * which exits 99 on any memory error or definite leak of the primary. */
static void exec_under_valgrind(char *const argv[])
{
    static char *vg[80] = {
        (char *) "valgrind", (char *) "-q", (char *) "--error-exitcode=99",
        (char *) "--leak-check=full", (char *) "--show-leak-kinds=definite",
        (char *) "--errors-for-leak-kinds=definite",
        (char *) "--track-fds=no", (char *) "--child-silent-after-fork=yes",
    };
    int n = 8;

    for (int i = 0; argv[i] && n < 79; i++)
        vg[n++] = argv[i];
    vg[n] = NULL;
    execvp(vg[0], vg);
}

struct zt_proc *zt_start(char *const argv[], char *const env[])
{
    return zt_start_fd3(argv, env, -1);
}

struct zt_proc *zt_start_fd3(char *const argv[], char *const env[], int fd3)
{
    struct zt_proc *p = calloc(1, sizeof(*p));
    int fds[2];

    ASSERT(p);
    ASSERT(pipe2(fds, O_CLOEXEC) == 0);
    p->cap = 65536;
    p->log = calloc(1, p->cap);
    ASSERT(p->log);
    p->pid = fork();
    ASSERT(p->pid >= 0);
    if (p->pid == 0) {
        sigset_t none;

        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        /* dup2 clears close-on-exec, except onto itself. */
        if (fd3 == 3)
            fcntl(3, F_SETFD, 0);
        else if (fd3 >= 0)
            dup2(fd3, 3);
        for (int i = 0; env && env[i]; i++) {
            char pid[32];

            /* LISTEN_PID must name the process that will exec: us. */
            if (strcmp(env[i], "ZT_SIG_IGN=1") == 0) {
                /* As a non-interactive shell's "cmd &" starts, and worse. */
                signal(SIGINT, SIG_IGN);
                signal(SIGTERM, SIG_IGN);
                signal(SIGHUP, SIG_IGN);
                signal(SIGCHLD, SIG_IGN);
            } else if (strncmp(env[i], "ZT_STDOUT=", 10) == 0) {
                /* Its stdout elsewhere (a pipe nobody reads), its
                 * stderr still the log. */
                dup2(atoi(env[i] + 10), 1);
            } else if (strcmp(env[i], "LISTEN_PID=self") == 0) {
                snprintf(pid, sizeof(pid), "%d", (int) getpid());
                setenv("LISTEN_PID", pid, 1);
            } else {
                putenv(env[i]);
            }
        }
        if (getenv("ZC_TEST_VALGRIND") && strcmp(argv[0], zt_zcluster()) == 0)
            exec_under_valgrind(argv);
        execv(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    p->out = fds[0];
    for (int i = 0; i < MAX_PROCS; i++)
        if (!procs[i]) {
            procs[i] = p;
            break;
        }
    return p;
}

static void append(struct zt_proc *p, const char *buf, size_t n)
{
    if (p->len + n + 1 > p->cap) {
        p->cap = (p->len + n + 1) * 2;
        p->log = realloc(p->log, p->cap);
        ASSERT(p->log);
    }
    memcpy(p->log + p->len, buf, n);
    p->len += n;
    p->log[p->len] = '\0';
}

void zt_pump(struct zt_proc *p, int timeout_ms)
{
    struct pollfd pfd = { .fd = p->out, .events = POLLIN };
    char buf[4096];
    ssize_t n;

    if (p->out < 0 || poll(&pfd, 1, timeout_ms) <= 0)
        return;
    n = read(p->out, buf, sizeof(buf));
    if (n > 0) {
        append(p, buf, (size_t) n);
    } else if (n == 0) {
        close(p->out);
        p->out = -1;
    }
}

const char *zt_try_line(struct zt_proc *p, const char *needle, int timeout_ms)
{
    static char line[2048];
    uint64_t deadline = zt_now_ms() + (uint64_t) timeout_ms;

    for (;;) {
        /* Only whole lines count: a half-written line may be completed by
         * the next read. */
        while (p->scan < p->len) {
            char *start = p->log + p->scan, *nl = strchr(start, '\n');
            size_t n;

            if (!nl)
                break;
            p->scan = (size_t) (nl - p->log) + 1;
            n = (size_t) (nl - start);
            if (n >= sizeof(line))
                n = sizeof(line) - 1;
            memcpy(line, start, n);
            line[n] = '\0';
            if (strstr(line, needle))
                return line;
        }
        uint64_t now = zt_now_ms();
        if (now >= deadline || p->out < 0)
            return NULL;
        zt_pump(p, (int) (deadline - now));
    }
}

const char *zt_wait_line(struct zt_proc *p, const char *needle, int timeout_ms)
{
    const char *l = zt_try_line(p, needle, timeout_ms);

    if (!l)
        zt_fail(__FILE__, __LINE__, "no line containing \"%s\" from pid %d "
                "within %d ms", needle, (int) p->pid, timeout_ms);
    return l;
}

int zt_count(struct zt_proc *p, const char *needle)
{
    return zt_count_in(p->log, needle);
}

int zt_wait_exit(struct zt_proc *p, int timeout_ms)
{
    uint64_t deadline = zt_now_ms() + (uint64_t) timeout_ms;
    int pidfd;

    if (p->exited)
        return p->status;
    pidfd = (int) syscall(SYS_pidfd_open, p->pid, 0);
    ASSERT(pidfd >= 0);
    for (;;) {
        struct pollfd pfd[2] = { { .fd = pidfd, .events = POLLIN },
                                 { .fd = p->out, .events = POLLIN } };
        uint64_t now = zt_now_ms();
        int n;

        if (now >= deadline) {
            close(pidfd);
            zt_fail(__FILE__, __LINE__, "pid %d did not exit within %d ms",
                    (int) p->pid, timeout_ms);
        }
        n = poll(pfd, p->out >= 0 ? 2 : 1, (int) (deadline - now));
        if (n > 0 && (pfd[0].revents & POLLIN))
            break;
        if (n > 0 && pfd[1].revents)
            zt_pump(p, 0);
    }
    close(pidfd);
    ASSERT(waitpid(p->pid, &p->status, 0) == p->pid);
    p->exited = true;
    /* Read what is left, without waiting on workers still holding the
     * pipe open. */
    for (int i = 0; i < 64 && p->out >= 0; i++) {
        size_t before = p->len;

        zt_pump(p, 0);
        if (p->len == before)
            break;
    }
    return p->status;
}

int zt_exit_code(struct zt_proc *p, int timeout_ms)
{
    int st = zt_wait_exit(p, timeout_ms);

    if (!WIFEXITED(st))
        zt_fail(__FILE__, __LINE__, "pid %d was killed by signal %d",
                (int) p->pid, WTERMSIG(st));
    return WEXITSTATUS(st);
}

void zt_proc_free(struct zt_proc *p)
{
    for (int i = 0; i < MAX_PROCS; i++)
        if (procs[i] == p)
            procs[i] = NULL;
    if (p->out >= 0)
        close(p->out);
    free(p->log);
    free(p);
}

bool zt_parse_worker(const char *line, unsigned long *id, int *slot, pid_t *pid)
{
    const char *w = line ? strstr(line, "worker ") : NULL;
    int pd;

    if (!w || sscanf(w, "worker %lu (slot %d, pid %d)", id, slot, &pd) != 3)
        return false;
    *pid = pd;
    return true;
}

int zt_parse_port(const char *line)
{
    const char *s = strstr(line, "listening on ");
    const char *colon;

    ASSERT(s);
    colon = strchr(s + 13, ' ');
    ASSERT(colon);
    while (colon > s && colon[-1] != ':')
        colon--;
    return atoi(colon);
}

bool zt_alive(pid_t pid)
{
    char path[64], buf[512];
    FILE *f;
    char *rp;
    bool alive = false;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
    f = fopen(path, "r");
    if (!f)
        return false;
    if (fgets(buf, sizeof(buf), f) && (rp = strrchr(buf, ')')))
        alive = rp[2] != 'Z' && rp[2] != 'X';
    fclose(f);
    return alive;
}

bool zt_wait_gone(pid_t pid, int timeout_ms)
{
    int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
    struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
    bool gone;

    if (pidfd < 0)
        return errno == ESRCH;
    gone = poll(&pfd, 1, timeout_ms) == 1;
    close(pidfd);
    if (gone)
        (void) waitpid(pid, NULL, WNOHANG);
    return gone;
}

void zt_reap_all(int timeout_ms)
{
    uint64_t deadline = zt_now_ms() + (uint64_t) timeout_ms;

    for (;;) {
        pid_t pid = waitpid(-1, NULL, WNOHANG);

        if (pid > 0)
            continue;
        if (pid == -1 && errno == ECHILD)
            return;
        if (zt_now_ms() >= deadline)
            zt_fail(__FILE__, __LINE__, "children still running after %d ms",
                    timeout_ms);
        /* A child is still running: wait for any exit, bounded. */
        struct timespec ts = { 0, 5 * 1000000 };
        sigset_t set;

        sigemptyset(&set);
        sigaddset(&set, SIGCHLD);
        (void) sigtimedwait(&set, NULL, &ts);
    }
}

void zt_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    ASSERT(f);
    fputs(text, f);
    ASSERT(fclose(f) == 0);
}

void zt_write_script(const char *path, const char *text)
{
    zt_write_file(path, text);
    ASSERT(chmod(path, 0755) == 0);
}

char *zt_read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf;
    size_t n;

    if (!f)
        return NULL;
    buf = calloc(1, 65536);
    ASSERT(buf);
    n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* zcluster's argv from a NULL-terminated list of arguments. */
static struct zt_proc *start_zc(const char *arg, va_list ap)
{
    char *argv[64];
    int n = 0;

    argv[n++] = (char *) zt_zcluster();
    for (const char *a = arg; a && n < 63; a = va_arg(ap, const char *))
        argv[n++] = (char *) a;
    argv[n] = NULL;
    return zt_start(argv, NULL);
}

struct zt_proc *zt_zc(const char *arg, ...)
{
    struct zt_proc *p;
    va_list ap;

    va_start(ap, arg);
    p = start_zc(arg, ap);
    va_end(ap);
    return p;
}

int zt_run(char **out, int timeout_ms, const char *prog, ...)
{
    char *argv[32] = { (char *) prog };
    struct zt_proc *c;
    va_list ap;
    int n = 1, code;

    va_start(ap, prog);
    for (const char *a = va_arg(ap, const char *); a && n < 31;
         a = va_arg(ap, const char *))
        argv[n++] = (char *) a;
    va_end(ap);
    c = zt_start(argv, NULL);
    code = zt_exit_code(c, timeout_ms);
    zt_pump(c, 100);
    if (out)
        *out = strdup(c->log);
    zt_proc_free(c);
    return code;
}

struct zt_proc *zt_fleet(int n, pid_t *pids, int *port, const char *arg, ...)
{
    char want[64];
    va_list ap;
    struct zt_proc *p;
    const char *l;

    va_start(ap, arg);
    p = start_zc(arg, ap);
    va_end(ap);
    if (port)
        *port = 0;
    /* Listeners are logged before "starting N workers". */
    zt_wait_line(p, "zc:primary: starting ", 5000);
    for (const char *s = p->log; port && (s = strstr(s, "listening on ")); s++)
        if (strncmp(s + 13, "unix:", 5) != 0) {
            *port = zt_parse_port(s);
            break;
        }
    for (int i = 0; i < n; i++) {
        unsigned long id;
        int slot;
        pid_t pid;

        l = zt_wait_line(p, ") started", 5000);
        ASSERT(zt_parse_worker(l, &id, &slot, &pid));
        ASSERT(slot >= 0 && slot < n);
        pids[slot] = pid;
    }
    snprintf(want, sizeof(want), n == 1 ? "%d worker ready" : "all %d workers ready",
             n);
    zt_wait_line(p, want, 10000);
    return p;
}

/* The state letter of /proc/PID/stat ('R', 'S', 'T', 'Z'...), 0 if gone. */
static char proc_state(pid_t pid)
{
    char path[64], buf[512], *rp, state = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
    f = fopen(path, "r");
    if (!f)
        return 0;
    if (fgets(buf, sizeof(buf), f) && (rp = strrchr(buf, ')')))
        state = rp[2];
    fclose(f);
    return state;
}

void zt_wait_state(pid_t pid, char state)
{
    uint64_t t0 = zt_now_ms();

    /* No event says "stopped" or "asleep" for a process that is not our
     * child: poll /proc, bounded. */
    while (proc_state(pid) != state) {
        struct timespec ts = { 0, 1000000 };

        if (zt_now_ms() - t0 > 3000)
            zt_fail(__FILE__, __LINE__, "pid %d never reached state %c",
                    (int) pid, state);
        nanosleep(&ts, NULL);
    }
}

void zt_stop(pid_t pid)
{
    ASSERT(kill(pid, SIGSTOP) == 0);
    zt_wait_state(pid, 'T');
}

long zt_log_ms(const char *line)
{
    int h, m, s, ms;
    const char *t = strchr(line, 'T');

    ASSERT(t && sscanf(t + 1, "%d:%d:%d.%d", &h, &m, &s, &ms) == 4);
    return ((h * 60L + m) * 60 + s) * 1000 + ms;
}

void zt_stop_fleet(struct zt_proc *p)
{
    ASSERT(kill(p->pid, SIGTERM) == 0);
    ASSERT_EQ(zt_exit_code(p, 10000), 0);
    zt_reap_all(3000);
    zt_proc_free(p);
}

const char *zt_path(const char *rel)
{
    static char paths[4][1100];
    static unsigned next;
    char *path = paths[next++ % 4], cwd[1024];

    ASSERT(getcwd(cwd, sizeof(cwd)));
    snprintf(path, sizeof(paths[0]), "%s/%s", cwd, rel);
    ASSERT_EQ(access(path, R_OK), 0);
    return path;
}

const char *zt_worker_py(void)
{
    if (access("/usr/bin/python3", X_OK) != 0)
        zt_skip("python3 is not installed");
    return zt_path("examples/worker.py");
}

int zt_metrics_port(struct zt_proc *p)
{
    const char *at = strstr(p->log, "serving http://"), *end, *colon;

    ASSERT(at);
    /* HOST:PORT up to the path, any host: the port after its last ':'. */
    end = strchr(at + strlen("serving http://"), '/');
    ASSERT(end);
    for (colon = end; colon > at && *colon != ':'; colon--)
        ;
    ASSERT(*colon == ':');
    return atoi(colon + 1);
}

int zt_count_in(const char *hay, const char *needle)
{
    int n = 0;

    for (const char *s = hay; (s = strstr(s, needle)); s += strlen(needle))
        n++;
    return n;
}

char *zt_capture(const char *cmd)
{
    FILE *f = popen(cmd, "r");
    char *out = NULL;
    size_t len = 0, cap = 0, n;
    char buf[4096];

    ASSERT(f);
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            out = realloc(out, cap);
            ASSERT(out);
        }
        memcpy(out + len, buf, n);
        len += n;
    }
    (void) pclose(f);
    if (!out)
        out = strdup("");
    else
        out[len] = '\0';
    return out;
}

/* The test's own /run: a mount namespace of its own with a tmpfs there,
 * so root's default place (/run/zcluster) can be used and changed without
 * touching the machine's. Fleets started from here find it by default. */
void zt_private_run(void)
{
    if (geteuid() != 0)
        zt_skip("needs root: a mount namespace with its own /run");
    if (unshare(CLONE_NEWNS) == -1 ||
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
        mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") == -1)
        zt_skip("cannot make a private /run (unshare, mount)");
    unsetenv("RUNTIME_DIRECTORY");
    unsetenv("XDG_RUNTIME_DIR");
}

long zt_rss_kib(pid_t pid)
{
    char path[64], *text, *at;
    long kib = -1;

    snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
    text = zt_read_file(path);
    ASSERT(text);
    if ((at = strstr(text, "VmRSS:")))
        kib = atol(at + 6);
    free(text);
    return kib;
}

int zt_fd_count(pid_t pid)
{
    char path[64];
    struct dirent *e;
    int n = 0;
    DIR *d;

    snprintf(path, sizeof(path), "/proc/%d/fd", (int) pid);
    d = opendir(path);
    ASSERT(d);
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ZT_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define ZT_ASAN 1
#endif

bool zt_memory_kept(void)
{
#ifdef ZT_ASAN
    return true;    /* built as the runner is: the same flags */
#else
    return getenv("ZC_TEST_VALGRIND") != NULL;
#endif
}

/* See test.h. */
struct zt_proc *zt_as_nobody(const char *workers, const char *const *extra,
                             const char *cmd)
{
    static const char *const head[] = {
        "/usr/bin/setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
    };
    char *argv[32];
    int n = 0;

    for (size_t i = 0; i < sizeof(head) / sizeof(head[0]); i++)
        argv[n++] = (char *) head[i];
    argv[n++] = (char *) zt_zcluster();
    argv[n++] = (char *) "-w";
    argv[n++] = (char *) workers;
    argv[n++] = (char *) "-l";
    argv[n++] = (char *) "127.0.0.1:0";
    argv[n++] = (char *) "--balance";
    argv[n++] = (char *) "reuseport";
    argv[n++] = (char *) "--control";
    argv[n++] = (char *) "none";
    argv[n++] = (char *) "--metrics";
    argv[n++] = (char *) "127.0.0.1:0";
    for (size_t i = 0; extra && extra[i] && n < 28; i++)
        argv[n++] = (char *) extra[i];
    argv[n++] = (char *) "--";
    if (cmd) {
        argv[n++] = (char *) "/bin/sh";
        argv[n++] = (char *) "-c";
        argv[n++] = (char *) cmd;
    } else {
        argv[n++] = (char *) zt_hello();
    }
    argv[n] = NULL;
    return zt_start(argv, NULL);
}

/* A fleet's command (for /bin/sh -c): zcluster-hello in every slot but
 * `slot`, whose worker never accepts: sleep holds the slot's socket, says
 * nothing, and is ready by --ready auto's timer, as a server that is
 * wedged, or still starting after a second, would be. */
const char *zt_deaf_in_slot(int slot)
{
    static char cmd[512];

    snprintf(cmd, sizeof(cmd),
             "[ \"$ZC_WORKER_SLOT\" = %d ] && exec sleep 600; exec %s", slot,
             zt_hello());
    return cmd;
}

const char *zt_other_zcluster(const char *name)
{
    static char path[4][PATH_MAX];
    static int next;
    char *p = path[next++ % 4];
    const char *slash = strrchr(zt_zcluster(), '/');

    snprintf(p, PATH_MAX, "%.*s/tests/zcluster-%s",
             (int) (slash - zt_zcluster()), zt_zcluster(), name);
    ASSERT(access(p, X_OK) == 0);
    return p;
}

void zt_repoint(const char *link, const char *target)
{
    char tmp[PATH_MAX + 8];

    snprintf(tmp, sizeof(tmp), "%s.new", link);
    (void) unlink(tmp);
    ASSERT_EQ(symlink(target, tmp), 0);
    ASSERT_EQ(rename(tmp, link), 0);
}
