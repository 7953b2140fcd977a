/* The test runner's helpers: assertions, processes, HTTP. */
#ifndef ZC_TEST_H
#define ZC_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "zcluster.h"

/* Every test is listed once in tests/list.h. */
#define TEST(name, timeout_s) void test_##name(void);
#include "list.h"
#undef TEST

#define HELPER(name) int helper_##name(int argc, char **argv);
#include "helpers.h"
#undef HELPER

void zt_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

/* Ends the test as skipped (the machine lacks what it needs). */
#define ZT_SKIPPED 77
void zt_skip(const char *why) __attribute__((noreturn));

#define ASSERT(e) \
    do { if (!(e)) zt_fail(__FILE__, __LINE__, "assertion failed: %s", #e); } while (0)
#define ASSERT_EQ(a, b) \
    do { long long a_ = (long long) (a), b_ = (long long) (b); \
         if (a_ != b_) zt_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", \
                               #a, #b, a_, b_); } while (0)
#define ASSERT_GE(a, b) \
    do { long long a_ = (long long) (a), b_ = (long long) (b); \
         if (a_ < b_) zt_fail(__FILE__, __LINE__, "%s >= %s: %lld < %lld", \
                              #a, #b, a_, b_); } while (0)
#define ASSERT_LE(a, b) \
    do { long long a_ = (long long) (a), b_ = (long long) (b); \
         if (a_ > b_) zt_fail(__FILE__, __LINE__, "%s <= %s: %lld > %lld", \
                              #a, #b, a_, b_); } while (0)
#define ASSERT_STREQ(a, b) \
    do { const char *a_ = (a), *b_ = (b); \
         if (!a_ || !b_ || strcmp(a_, b_)) zt_fail(__FILE__, __LINE__, \
             "%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)", \
             b_ ? b_ : "(null)"); } while (0)
#define ASSERT_CONTAINS(hay, needle) \
    do { const char *h_ = (hay), *n_ = (needle); \
         if (!h_ || !strstr(h_, n_)) zt_fail(__FILE__, __LINE__, \
             "%s contains \"%s\": it is \"%s\"", #hay, n_, h_ ? h_ : "(null)"); \
    } while (0)

/* Paths of the built programs. */
const char *zt_zcluster(void);
const char *zt_hello(void);
const char *zt_self(void);
const char *zt_zclusterctl(void);
/* examples/worker.py, as an absolute path; skips the test without
 * /usr/bin/python3. */
const char *zt_worker_py(void);
/* The absolute path of rel, a file of the tree (tests run at its root);
 * the last four answers stay valid. */
const char *zt_path(const char *rel);
/* A /run of the test's own (a mount namespace, a tmpfs), the default
 * places of RUNTIME_DIRECTORY and XDG_RUNTIME_DIR unset; skips the test
 * without root. */
void zt_private_run(void);
/* A fresh private directory for this test (removed by the runner). */
const char *zt_tmpdir(void);

uint64_t zt_now_ms(void);

/* A process under test with its stdout+stderr captured. */
struct zt_proc {
    pid_t pid;
    int out;            /* read end of its stdout/stderr pipe; -1 at EOF */
    char *log;          /* everything it printed so far, NUL-terminated */
    size_t len, cap;
    size_t scan;        /* zt_wait_line continues from here */
    bool exited;
    int status;
};

/* Starts argv (NULL-terminated) with extra "K=V" env entries (may be NULL). */
struct zt_proc *zt_start(char *const argv[], char *const env[]);
/* The same, with fd3 placed at fd 3 (socket activation); an env entry
 * "LISTEN_PID=self" becomes the new process's pid, "ZT_STDOUT=FD" puts
 * FD on its stdout (its stderr stays the log). */
struct zt_proc *zt_start_fd3(char *const argv[], char *const env[], int fd3);
/* Waits until a line containing needle appears after the last match;
 * returns that line (valid until the next call) or fails the test. */
const char *zt_wait_line(struct zt_proc *p, const char *needle, int timeout_ms);
/* Same, but returns NULL on timeout instead of failing. */
const char *zt_try_line(struct zt_proc *p, const char *needle, int timeout_ms);
/* Reads whatever is available without waiting. */
void zt_pump(struct zt_proc *p, int timeout_ms);
/* Counts lines with needle in everything read so far. */
int zt_count(struct zt_proc *p, const char *needle);
/* Waits for it to exit; returns the wait status, or fails on timeout. */
int zt_wait_exit(struct zt_proc *p, int timeout_ms);
/* zt_start(zcluster ARGS...), the list ending with NULL. */
struct zt_proc *zt_zc(const char *arg, ...) __attribute__((sentinel));
/* Runs prog with the arguments that follow, to its end (timeout_ms at
 * most): its exit code, and what it printed (stdout and stderr) in *out
 * (malloc'ed) unless out is NULL. */
int zt_run(char **out, int timeout_ms, const char *prog, ...)
    __attribute__((sentinel));
/* Starts zcluster, waits for "all N workers ready", fills pids[slot] and
 * the port of the first TCP listener (0 if none; port may be NULL). */
struct zt_proc *zt_fleet(int n, pid_t *pids, int *port, const char *arg, ...)
    __attribute__((sentinel));
/* Sends SIGSTOP and waits until /proc says the process is stopped. */
void zt_stop(pid_t pid);
/* Waits until /proc says pid is in state ('S': asleep, 'T': stopped). */
void zt_wait_state(pid_t pid, char state);
/* Milliseconds since midnight of a log line's timestamp. */
long zt_log_ms(const char *line);
/* Waits for it to exit normally (a signal fails the test); its status. */
int zt_exit_code(struct zt_proc *p, int timeout_ms);
/* TERM to a zcluster primary: it must exit 0 within 10 s; then reaps
 * what is left and frees the record. */
void zt_stop_fleet(struct zt_proc *p);
/* Frees the record (the process must have exited). */
void zt_proc_free(struct zt_proc *p);
/* zcluster as nobody (setpriv; no CAP_BPF: the classic program), WORKERS
 * slots in a --balance reuseport group, a metrics endpoint, no control
 * socket; extra: more options (NULL-terminated, may be NULL); cmd: the
 * workers' command for /bin/sh -c, or NULL for zcluster-hello. */
struct zt_proc *zt_as_nobody(const char *workers, const char *const *extra,
                             const char *cmd);
/* A fleet's command (for /bin/sh -c): zcluster-hello in every slot but
 * slot, whose worker never accepts (valid until the next call). */
const char *zt_deaf_in_slot(int slot);

/* "started" lines look like "worker 3 (slot 1, pid 4121) started": fill
 * the numbers from a line. Returns false if it does not parse. */
bool zt_parse_worker(const char *line, unsigned long *id, int *slot, pid_t *pid);
/* The port of p's metrics endpoint, from its "serving http://" line. */
int zt_metrics_port(struct zt_proc *p);
/* Port from a "listening on 127.0.0.1:PORT" line. */
int zt_parse_port(const char *line);

/* Waits until pid (any process, not only a child) has exited; false on
 * timeout. Reaps it when it is our child. */
bool zt_wait_gone(pid_t pid, int timeout_ms);
/* Whether pid exists and is not a zombie. */
bool zt_alive(pid_t pid);
/* Reaps every child (orphans reparented to us as subreaper included),
 * waiting up to timeout_ms for them to exit. */
void zt_reap_all(int timeout_ms);

/* A response, parsed. */
struct zt_resp {
    int status;         /* 0 when no response came */
    long pid;           /* X-Worker-Pid, -1 if absent */
    int slot;           /* X-Worker-Slot */
    bool closing;       /* Connection: close */
    char head[1024];
};

/* One request on a new connection to 127.0.0.1:port (port > 0) or to
 * the unix socket path. Returns the status (0: failed to connect/read). */
int zt_http_get(int port, const char *unix_path, struct zt_resp *r);
/* Sends req (len bytes, none if 0) to 127.0.0.1:port and reads until the
 * server closes, 5 s at most. Returns the status, 0 if nothing came;
 * *body (if body) points into buf. */
int zt_http_raw(int port, const char *req, size_t len, char *buf, size_t size,
                const char **body);
/* GET path, Connection: close; as zt_http_raw. */
int zt_http_fetch(int port, const char *path, char *buf, size_t size,
                  const char **body);
/* The value of the Prometheus sample whose text before the value is key
 * ("name{a=\"b\"}"); NAN if there is none. */
double zt_sample(const char *body, const char *key);
/* That value in the /metrics served on 127.0.0.1:mport (NAN if none). */
double zt_metric(int mport, const char *key);
/* A keep-alive connection. */
int zt_http_connect(int port);
/* n (at most 512) keep-alive connections opened one by one, all before
 * the first request: how many each of slots slots answered, added to
 * per_slot. */
void zt_keepalive_spread(int port, int n, int *per_slot, int slots);
int zt_http_request(int fd, struct zt_resp *r);
/* Reads one response to a request sent by hand. */
int zt_http_read(int fd, struct zt_resp *r);
/* n new connections to 127.0.0.1:port, each with a GET (Connection:
 * close) sent at once, unanswered yet: their fds. */
void zt_http_send_all(int port, int *fds, int n);
/* One response on each of n connections, each closed after: how many
 * were 200 (the others reset, closed or timed out). */
int zt_http_read_all(const int *fds, int n);

/* A load generator in a child process (tests/load.c): conns connections
 * to 127.0.0.1:port, each sending a request as soon as the last answer is
 * complete, keep-alive or a new connection per request. */
struct zt_load;
struct zt_load_result {
    uint64_t ok;            /* complete 200 responses */
    uint64_t failed;        /* anything else, timeouts included */
    uint64_t connects;
    long max_generation;    /* the highest X-Worker-Generation seen */
    char first_error[160];
};
struct zt_load *zt_load_start(int port, int conns, bool keepalive);
void zt_load_stop(struct zt_load *l, struct zt_load_result *res);
/* The same, once a response from generation gen (or a later one) has come
 * in, or after 3 s: the last reload's workers may not have answered yet
 * when the test sees "done". */
void zt_load_stop_at(struct zt_load *l, long gen, struct zt_load_result *res);
/* The number of children of pid (-1 if it is gone). */
int zt_children(pid_t pid);
/* The same, with up to max of their pids in out. */
int zt_children_of(pid_t pid, pid_t *out, int max);
/* Occurrences of needle in hay. */
int zt_count_in(const char *hay, const char *needle);
/* What the shell command cmd printed on stdout (malloc'ed). */
char *zt_capture(const char *cmd);
/* A connected unix socket (asserted). */
int zt_unix_connect(const char *path);
/* req sent on the unix socket at path, the answer read to EOF into buf. */
size_t zt_unix_raw(const char *path, const char *req, char *buf, size_t size);

/* Writes a whole file; reads one into a malloc'd string (NULL if absent). */
void zt_write_file(const char *path, const char *text);
/* The same, mode 0755: a script a fleet can run. */
void zt_write_script(const char *path, const char *text);
char *zt_read_file(const char *path);

/* The build's other image NAME of the tool (build/tests/zcluster-NAME,
 * for the upgrade tests); asserted executable. The last four answers
 * stay valid. */
const char *zt_other_zcluster(const char *name);
/* link names target from now on, replaced as a deploy does it (a new link
 * renamed over the old: never a moment without one). */
void zt_repoint(const char *link, const char *target);

/* A process's resident memory in KiB and its open fds, from /proc. */
long zt_rss_kib(pid_t pid);
int zt_fd_count(pid_t pid);
/* Whether the zcluster under test keeps freed memory (AddressSanitizer's
 * quarantine, valgrind's): its RSS then says nothing of a leak. */
bool zt_memory_kept(void);

#endif
