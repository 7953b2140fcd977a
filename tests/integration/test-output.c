/* The workers' output through the primary (docs/logging.md): whole lines
 * with their names, in both formats, last words before the exit line, a
 * worker's children named after it, long and binary lines, a slow or
 * closed stdout that never stalls the primary, and zclusterctl logs. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

#define LINE_LEN 10000 /* more than PIPE_BUF: a write a pipe may cut */

/* Checks every worker line of a prefix log: its payload "S<slot> P<pid>"
 * is the prefix's slot and pid, and it is whole (LINE_LEN - 1 bytes
 * ending in '$'). Returns how many there were. */
static int check_prefix_lines(const char *log)
{
    int n = 0;

    for (const char *s = log; s && *s; s = strchr(s, '\n'), s = s ? s + 1 : s) {
        const char *eol = strchr(s, '\n'), *body;
        unsigned slot, bslot;
        int pid, bpid, used = 0;
        char stream[4];

        if (!eol)
            break;
        if (sscanf(s, "%*s %*[^[][%u] worker %*u pid %d gen %*u %3[a-z]: %n",
                   &slot, &pid, stream, &used) != 3 ||
            !used)
            continue;
        body = s + used;
        if (sscanf(body, "S%u P%d ", &bslot, &bpid) != 2)
            continue;
        if (bslot != slot || bpid != pid)
            zt_fail(__FILE__, __LINE__,
                    "a line of slot %u pid %d under the "
                    "name of slot %u pid %d",
                    bslot, bpid, slot, pid);
        if (eol - body != LINE_LEN - 1 || eol[-1] != '$')
            zt_fail(__FILE__, __LINE__, "a line of %d bytes, not %d: %.80s",
                    (int) (eol - body), LINE_LEN - 1, body);
        n++;
    }
    return n;
}

/*
 * Two workers, four threads each, 10000-byte lines to stdout and stderr
 * at once: every line comes out whole, under its own worker's name.
 */
void test_output_whole_lines(void)
{
    struct zt_proc *p = zt_zc("-w", "2", "--control", "none", "--", zt_self(),
                              "--helper", "lines", "4", "40", "10000", NULL);

    ASSERT_EQ(zt_exit_code(p, 30000), 0);
    ASSERT_EQ(check_prefix_lines(p->log), 2 * 4 * 40);
    zt_proc_free(p);
}

/* The same in JSON, the primary's own lines too, read by Python's json
 * module (tests/data/json-lines.py checks each record's fields). */
void test_output_whole_lines_json(void)
{
    static char *const env[] = { (char *) "ZC_LOG_FORMAT=json", NULL };
    char *argv[] = { (char *) zt_zcluster(),
                     (char *) "-w",
                     (char *) "2",
                     (char *) "--control",
                     (char *) "none",
                     (char *) "--",
                     (char *) zt_self(),
                     (char *) "--helper",
                     (char *) "lines",
                     (char *) "4",
                     (char *) "40",
                     (char *) "10000",
                     NULL };
    char path[256], cmd[600], *out;
    struct zt_proc *p = zt_start(argv, env);

    ASSERT_EQ(zt_exit_code(p, 30000), 0);
    snprintf(path, sizeof(path), "%s/json-lines.txt", zt_tmpdir());
    zt_write_file(path, p->log);
    snprintf(cmd, sizeof(cmd), "python3 %s %s %d 2>&1",
             zt_path("tests/data/json-lines.py"), path, LINE_LEN);
    out = zt_capture(cmd);
    printf("# %s", out);
    ASSERT_CONTAINS(out, "ok: 320 worker lines whole");
    ASSERT_CONTAINS(out, "every line JSON");
    free(out);
    zt_proc_free(p);
}

/* What a worker wrote just before kill -9, an unfinished last line too,
 * comes before the line that reports its exit. */
void test_output_last_words(void)
{
    struct zt_proc *p = zt_zc("-w", "1", "--control", "none", "--respawn",
                              "never", "--", "/bin/sh", "-c",
                              "echo 'my last words'; printf 'no newline'; "
                              "kill -KILL $$",
                              NULL);
    const char *last, *partial, *exit_line;

    ASSERT_EQ(zt_exit_code(p, 10000), 1);
    /* said once, at start, by a root primary without --user */
    if (geteuid() == 0)
        ASSERT_EQ(zt_count(p, "the workers run as root"), 1);
    last = strstr(p->log, "out: my last words\n");
    partial = strstr(p->log, "out: no newline\n");
    exit_line = strstr(p->log, "was killed by signal KILL");
    ASSERT(last && partial && exit_line);
    ASSERT(last < partial && partial < exit_line);
    zt_proc_free(p);
}

/* A worker's children write to the pipes they inherited: their lines
 * carry the worker's slot and pid, while it lives and after (slot 1's
 * worker keeps the fleet up meanwhile). */
void test_output_children_named(void)
{
    char want[96];
    unsigned long id;
    int slot;
    pid_t pid;
    struct zt_proc *p =
        zt_zc("-w", "2", "--control", "none", "--kill-mode", "process",
              "--respawn", "never", "--", "/bin/sh", "-c",
              "[ $ZC_WORKER_SLOT = 1 ] && exec sleep 30; "
              "sh -c 'echo child-alive; sleep 0.3; "
              "echo child-after' & sleep 0.1; exit 0",
              NULL);
    const char *line;

    line = zt_wait_line(p, "(slot 0, pid", 5000);
    ASSERT(zt_parse_worker(line, &id, &slot, &pid));
    line = zt_wait_line(p, "out: child-alive", 5000);
    snprintf(want, sizeof(want), "[0] worker %lu pid %d gen 1 out:", id,
             (int) pid);
    ASSERT_CONTAINS(line, want);
    zt_wait_line(p, "exited with status 0", 5000);
    line = zt_wait_line(p, "out: child-after", 5000);
    ASSERT_CONTAINS(line, want);
    zt_stop_fleet(p);
}

/* A 10 MiB line of random bytes with no newline: marked parts of at most
 * 16 KiB, valid JSON each, and the primary's memory stays small; a JSON
 * line before it keeps its fields. */
void test_output_long_binary_line(void)
{
    char *argv[] = { (char *) zt_zcluster(),
                     (char *) "-w",
                     (char *) "1",
                     (char *) "--control",
                     (char *) "none",
                     (char *) "--log-format",
                     (char *) "json",
                     (char *) "--",
                     (char *) "/bin/sh",
                     (char *) "-c",
                     (char *) "echo '{\"level\":30,\"msg\":\"hi\"}'; "
                              "head -c 10485760 /dev/urandom | tr -d '\\n'; "
                              "sleep 0.2",
                     NULL };
    char path[256], cmd[600], *out, *at;
    struct zt_proc *p = zt_start(argv, NULL);
    long rss = 0;

    if (zt_try_line(p, "\"zc_part\":300,", 20000))
        rss = zt_rss_kib(p->pid);
    ASSERT_EQ(zt_exit_code(p, 30000), 0);
    printf("# the primary's RSS midway: %ld KiB\n", rss);
    ASSERT(rss > 0 && rss < (zt_memory_kept() ? 256 : 40) * 1024);
    snprintf(path, sizeof(path), "%s/long-lines.txt", zt_tmpdir());
    zt_write_file(path, p->log);
    snprintf(cmd, sizeof(cmd), "python3 %s %s 0 2>&1",
             zt_path("tests/data/json-lines.py"), path);
    out = zt_capture(cmd);
    printf("# %s", out);
    ASSERT_CONTAINS(out, "every line JSON");
    /* About 10 MiB in parts of at most 16 KiB, and at least 16 KiB - 3
     * (a cut moves back only to a UTF-8 character's start): 640 or so. */
    at = strstr(out, "last part ");
    ASSERT(at);
    ASSERT_GE(atoi(at + 10), 630);
    ASSERT_LE(atoi(at + 10), 645);
    free(out);
    /* A worker's own JSON keeps its fields as fields (pm2#5244). */
    ASSERT_CONTAINS(p->log, "\"zc_stream\":\"out\",\"level\":30,"
                            "\"msg\":\"hi\"}\n");
    zt_proc_free(p);
}

/* A fleet whose stdout is a pipe nobody reads (stderr stays the log),
 * its workers writing as fast as they can (with drop: 200 000 lines
 * each, then nothing). */
static struct zt_proc *stalled(int *stuck, int *mport, const char *overflow,
                               const char *sock)
{
    bool burst = strcmp(overflow, "drop") == 0;
    static char env_out[32];
    char *env[] = { env_out, NULL };
    char *argv[] = {
        (char *) zt_zcluster(),
        (char *) "-w",
        (char *) "2",
        (char *) "-n",
        (char *) "stall",
        (char *) "--control",
        (char *) sock,
        (char *) "--metrics",
        (char *) "127.0.0.1:0",
        (char *) "--output-overflow",
        (char *) overflow,
        (char *) "--",
        (char *) "/bin/sh",
        (char *) "-c",
        (char *) (burst ? "yes 'a line of output' | head -n 200000; sleep 60"
                        : "yes 'a line of output'"),
        NULL
    };
    int fds[2];
    struct zt_proc *p;

    ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
    snprintf(env_out, sizeof(env_out), "ZT_STDOUT=%d", fds[1]);
    p = zt_start(argv, env);
    close(fds[1]);
    *stuck = fds[0];
    zt_wait_line(p, "serving http://127.0.0.1:", 10000);
    *mport = zt_metrics_port(p);
    return p;
}

static pid_t slot_pid(const char *sock, int slot)
{
    char cmd[400], key[32], *out, *at;
    pid_t pid = -1;

    snprintf(cmd, sizeof(cmd), "%s -s %s status --json", zt_zclusterctl(),
             sock);
    out = zt_capture(cmd);
    snprintf(key, sizeof(key), "{\"slot\": %d,", slot);
    at = strstr(out, key);
    if (at && (at = strstr(at, "\"pid\": ")))
        pid = (pid_t) atoi(at + 7);
    free(out);
    return pid;
}

/*
 * Nobody reads the primary's stdout: it stops reading the workers' pipes
 * (they wait), and goes on answering its control socket and respawning a
 * worker that dies; its memory stays bounded.
 */
void test_output_stalled_stdout(void)
{
    char sock[256], want[64], cmd[400], *text;
    int stuck, mport;
    struct zt_proc *p;
    pid_t old, now = -1;

    snprintf(sock, sizeof(sock), "%s/stall.sock", zt_tmpdir());
    p = stalled(&stuck, &mport, "wait", sock);
    zt_wait_line(p, "all 2 workers ready", 10000);
    for (int i = 0; i < 100 && zt_metric(mport, "zcluster_output_paused") != 1;
         i++)
        zt_pump(p, 50);
    ASSERT_EQ(zt_metric(mport, "zcluster_output_paused"), 1);
    ASSERT_LE(zt_metric(mport, "zcluster_output_queued_bytes"),
              4 * 1024 * 1024);
    snprintf(cmd, sizeof(cmd), "%s -s %s status", zt_zclusterctl(), sock);
    text = zt_capture(cmd);
    ASSERT_CONTAINS(text, "workers: as the primary's user; output prefix (");
    ASSERT_CONTAINS(text, "0 dropped, waiting for a slow stdout)");
    free(text);
    old = slot_pid(sock, 1);
    ASSERT(old > 0);
    kill(old, SIGKILL);
    snprintf(want, sizeof(want), "pid %d) was killed by signal KILL",
             (int) old);
    zt_wait_line(p, want, 5000);
    for (int i = 0; i < 100 && ((now = slot_pid(sock, 1)) <= 0 || now == old);
         i++)
        zt_pump(p, 50);
    ASSERT(now > 0 && now != old);
    ASSERT_LE(zt_rss_kib(p->pid), (zt_memory_kept() ? 256 : 40) * 1024);
    ASSERT_EQ(zt_metric(mport, "zcluster_output_dropped_lines_total"), 0);
    close(stuck);
    zt_stop_fleet(p);
}

/* With --output-overflow drop, whole lines are dropped and counted, and
 * one line says how many once stdout is read again. */
void test_output_stalled_drop(void)
{
    char sock[256], buf[65536];
    const char *said = NULL;
    int stuck, mport;
    struct zt_proc *p;
    double dropped;

    snprintf(sock, sizeof(sock), "%s/stall.sock", zt_tmpdir());
    p = stalled(&stuck, &mport, "drop", sock);
    zt_wait_line(p, "all 2 workers ready", 10000);
    for (int i = 0;
         i < 100 &&
         zt_metric(mport, "zcluster_output_dropped_lines_total") < 1000;
         i++)
        zt_pump(p, 50);
    dropped = zt_metric(mport, "zcluster_output_dropped_lines_total");
    printf("# dropped %.0f lines\n", dropped);
    ASSERT_GE(dropped, 1000);
    ASSERT_EQ(zt_metric(mport, "zcluster_output_paused"), 0);
    ASSERT(slot_pid(sock, 0) > 0);
    /* Read it all for a moment: it catches up and says so. */
    fcntl(stuck, F_SETFL, O_NONBLOCK);
    for (int i = 0; i < 2000 && !(said = zt_try_line(p, "dropped ", 10)); i++)
        while (read(stuck, buf, sizeof(buf)) > 0)
            ;
    ASSERT(said);
    ASSERT_CONTAINS(said, "of the workers' output");
    ASSERT_GE(zt_metric(mport, "zcluster_output_dropped_lines_total"), dropped);
    close(stuck);
    zt_stop_fleet(p);
}

/* A stdout that cannot be written at all (its reader is gone): said
 * once, its lines dropped and counted; the fleet goes on. */
void test_output_closed_stdout(void)
{
    char sock[256];
    int stuck, mport;
    struct zt_proc *p;

    snprintf(sock, sizeof(sock), "%s/stall.sock", zt_tmpdir());
    p = stalled(&stuck, &mport, "wait", sock);
    close(stuck);
    zt_wait_line(p, "stdout cannot be written (Broken pipe)", 10000);
    zt_wait_line(p, "all 2 workers ready", 10000);
    for (int i = 0;
         i < 100 &&
         zt_metric(mport, "zcluster_output_dropped_lines_total") < 100;
         i++)
        zt_pump(p, 50);
    ASSERT_GE(zt_metric(mport, "zcluster_output_dropped_lines_total"), 100);
    ASSERT(slot_pid(sock, 1) > 0);
    ASSERT_EQ(zt_count(p, "cannot be written"), 1);
    zt_stop_fleet(p);
}

/*
 * zclusterctl logs: the last lines of a slot, then, following it, the
 * lines of the worker that replaces a killed one; none with --output
 * inherit.
 */
void test_output_logs_follow(void)
{
    char sock[256], want[64], *out, cmd[400];
    char *argv[] = { (char *) zt_zclusterctl(),
                     (char *) "-s",
                     sock,
                     (char *) "logs",
                     (char *) "1",
                     (char *) "-f",
                     (char *) "-n",
                     (char *) "2",
                     NULL };
    struct zt_proc *p, *f;
    pid_t pids[2];

    snprintf(sock, sizeof(sock), "%s/logs.sock", zt_tmpdir());
    p = zt_fleet(2, pids, NULL, "-w", "2", "--control", sock, "--", "/bin/sh",
                 "-c", "while :; do echo tick $ZC_WORKER_ID; sleep 0.05; done",
                 NULL);
    zt_wait_line(p, "out: tick 2", 5000);
    zt_wait_line(p, "out: tick 2", 5000);
    snprintf(cmd, sizeof(cmd), "%s -s %s logs 1 -n 2", zt_zclusterctl(), sock);
    out = zt_capture(cmd);
    ASSERT_EQ(zt_count_in(out, "\n"), 2);
    ASSERT_EQ(zt_count_in(out, "[1] worker 2 pid"), 2);
    free(out);
    f = zt_start(argv, NULL);
    zt_wait_line(f, "[1] worker 2 pid", 5000);
    kill(pids[1], SIGKILL);
    /* slot 1's next worker is worker 3: its lines follow on */
    zt_wait_line(f, "[1] worker 3 pid", 10000);
    ASSERT_EQ(zt_count(f, "[0] worker"), 0);
    snprintf(want, sizeof(want), "pid %d", (int) pids[1]);
    /* the fleet ends: so does the follower, with 0 */
    kill(p->pid, SIGTERM);
    ASSERT_EQ(zt_exit_code(p, 10000), 0);
    ASSERT_EQ(zt_exit_code(f, 10000), 0);
    ASSERT_CONTAINS(f->log, want);
    zt_proc_free(f);
    zt_proc_free(p);

    p = zt_fleet(1, pids, NULL, "-w", "1", "--control", sock, "--output",
                 "inherit", "--", "/bin/sh", "-c", "echo raw; sleep 30", NULL);
    /* as it was written, with no name */
    ASSERT_CONTAINS(p->log, "\nraw\n");
    ASSERT_EQ(zt_count(p, "] worker 1 pid"), 0);
    snprintf(cmd, sizeof(cmd), "%s -s %s logs 2>&1; echo \"exit $?\"",
             zt_zclusterctl(), sock);
    out = zt_capture(cmd);
    ASSERT_CONTAINS(out, "--output inherit");
    ASSERT_CONTAINS(out, "exit 1");
    free(out);
    zt_stop_fleet(p);
}

/* A linked worker's own log, its lines named by the primary: it leaves
 * out its time and pid (ZC_OUTPUT), and in JSON its fields are merged,
 * the same names as the primary's own lines. */
void test_output_worker_log_named(void)
{
    static const char *const formats[] = { "text", "json" };
    static const char *const want[] = {
        "err: info  zc:worker: the primary asks us to shut down\n",
        "\"zc_stream\":\"err\",\"level\":\"info\",\"zc_ns\":\"zc:worker\","
        "\"msg\":\"the primary asks us to shut down\"}\n",
    };

    for (int i = 0; i < 2; i++) {
        struct zt_proc *p =
            zt_zc("-w", "1", "--control", "none", "--log-format", formats[i],
                  "-l", "127.0.0.1:0", "--", zt_hello(), NULL);

        zt_wait_line(p, "1 worker ready", 10000);
        kill(p->pid, SIGTERM);
        ASSERT_EQ(zt_exit_code(p, 10000), 0);
        ASSERT_CONTAINS(p->log, want[i]);
        zt_proc_free(p);
    }
}
