/* The command line: bad input is a clear line and status 2; an address
 * that cannot be bound is status 1 with no worker started. */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

static void expect_status(int want, const char *message, const char *const args[])
{
    char *argv[32];
    struct zt_proc *p;
    int n = 0, st;

    argv[n++] = (char *) zt_zcluster();
    for (int i = 0; args[i]; i++)
        argv[n++] = (char *) args[i];
    argv[n] = NULL;
    p = zt_start(argv, NULL);
    st = zt_wait_exit(p, 5000);
    zt_pump(p, 100);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != want || !strstr(p->log, message))
        zt_fail(__FILE__, __LINE__, "zcluster %s ...: want status %d and "
                "\"%s\", got status %d and:\n%s", args[0], want, message,
                WIFEXITED(st) ? WEXITSTATUS(st) : -1, p->log);
    /* Nothing may have been started on the way to the error. */
    ASSERT(!strstr(p->log, ") started"));
    if (want == 2)
        ASSERT_CONTAINS(p->log, "Try 'zcluster --help'");
    zt_proc_free(p);
}

#define EXPECT(status, msg, ...) \
    expect_status(status, msg, (const char *const[]) { __VA_ARGS__, NULL })

void test_cli_bad_input(void)
{
    EXPECT(2, "unrecognized option '--bogus'", "--bogus", "--", "/bin/true");
    EXPECT(2, "invalid --workers '0'", "-w", "0", "--", "/bin/true");
    EXPECT(2, "invalid --workers 'abc'", "-w", "abc", "--", "/bin/true");
    EXPECT(2, "invalid --workers '4097'", "--workers", "4097", "/bin/true");
    EXPECT(2, "invalid --workers '-1'", "-w", "-1", "/bin/true");
    EXPECT(2, "requires an argument", "-w");
    EXPECT(2, "invalid --listen address 'nope:80'", "-l", "nope:80", "--", "/bin/true");
    EXPECT(2, "invalid --listen address '127.0.0.1:99999'", "-l",
           "127.0.0.1:99999", "/bin/true");
    EXPECT(2, "invalid --listen address '::1:80'", "-l", "::1:80", "/bin/true");
    EXPECT(2, "no command given", "-w", "2");
    EXPECT(2, "no command given", "-w", "2", "--");
    EXPECT(2, "invalid --ready 'sometimes'", "--ready", "sometimes", "/bin/true");
    EXPECT(2, "invalid --ready 'delay:soon'", "--ready", "delay:soon", "/bin/true");
    EXPECT(2, "invalid --respawn 'maybe'", "--respawn", "maybe", "/bin/true");
    EXPECT(2, "invalid --respawn-delay '-5'", "--respawn-delay", "-5", "/bin/true");
    EXPECT(2, "invalid --shutdown-timeout '2d'", "--shutdown-timeout", "2d", "/bin/true");
    EXPECT(2, "invalid --shutdown-timeout '25h': must be at most 24 hours", "--shutdown-timeout", "25h", "/bin/true");
    EXPECT(2, "invalid --ready-timeout '0': must be at least 1 ms",
           "--ready-timeout", "0", "/bin/true");
    EXPECT(2, "invalid --ready-timeout 'soon'", "--ready-timeout", "soon", "/bin/true");
    EXPECT(2, "invalid --max-surge '0'", "--max-surge", "0", "/bin/true");
    EXPECT(2, "invalid --max-surge '4097'", "--max-surge", "4097", "/bin/true");
    EXPECT(2, "invalid --backoff-factor '0.5'", "--backoff-factor", "0.5", "/bin/true");
    EXPECT(2, "invalid --stop-signal 'KILL'", "--stop-signal", "KILL", "/bin/true");
    EXPECT(2, "invalid --stop-signal 'NOPE'", "--stop-signal", "NOPE", "/bin/true");
    EXPECT(2, "larger than --max-respawn-delay", "--respawn-delay", "5s",
           "--max-respawn-delay", "1s", "/bin/true");
    EXPECT(2, "invalid --metrics address 'unix:/tmp/m'", "--metrics", "unix:/tmp/m",
           "/bin/true");
    EXPECT(2, "invalid --metrics address 'nowhere'", "--metrics", "nowhere", "/bin/true");
    EXPECT(2, "invalid --metrics-timeout '50'", "--metrics-timeout", "50", "/bin/true");
    EXPECT(2, "invalid --metrics-wait '0'", "--metrics-wait", "0", "/bin/true");
    EXPECT(2, "--proxy-protocol needs --sticky", "--proxy-protocol", "-l",
           "127.0.0.1:0", "/bin/true");
    EXPECT(2, "--sticky needs a listen address (-l)", "--sticky", "/bin/true");
    EXPECT(2, "invalid --sticky-wait '2h': must be at most 1 hour", "--sticky-wait", "2h", "/bin/true");
    EXPECT(2, "invalid --sticky-queue '0'", "--sticky-queue", "0", "/bin/true");
    EXPECT(2, "invalid --sticky-queue 'many'", "--sticky-queue", "many", "/bin/true");
    EXPECT(2, "invalid --proxy-timeout '0'", "--proxy-timeout", "0", "/bin/true");
    /* Worker health */
    EXPECT(2, "--watchdog 50 ms is shorter than the primary can honour: at "
           "least 100 ms (0: off)", "--watchdog", "50ms", "/bin/true");
    EXPECT(2, "invalid --watchdog 'soon'", "--watchdog", "soon", "/bin/true");
    EXPECT(2, "--watchdog-require and --watchdog-action need --watchdog DUR",
           "--watchdog-require", "/bin/true");
    EXPECT(2, "invalid --watchdog-action 'shout': expected kill or log",
           "--watchdog", "1s", "--watchdog-action", "shout", "/bin/true");
    EXPECT(2, "invalid --watchdog-signal 'KILL'", "--watchdog-signal", "KILL",
           "/bin/true");
    EXPECT(2, "invalid --max-lifetime '800h': must be at most 720 hours",
           "--max-lifetime", "800h", "/bin/true");
    EXPECT(2, "invalid --max-memory '12Q': expected a size such as 768M",
           "--max-memory", "12Q", "/bin/true");
    EXPECT(2, "invalid --max-memory '-1M'", "--max-memory", "-1M", "/bin/true");
    EXPECT(2, "invalid --recycle-jitter '1.5': expected a number from 0 to 1",
           "--recycle-jitter", "1.5", "/bin/true");
    EXPECT(2, "invalid --backoff-jitter '-0.1'", "--backoff-jitter", "-0.1",
           "/bin/true");
    EXPECT(2, "invalid --recycle-concurrency '0'", "--recycle-concurrency", "0",
           "/bin/true");
    EXPECT(2, "invalid --give-up '5': expected N/DUR", "--give-up", "5", "/bin/true");
    EXPECT(2, "invalid --give-up '0/60s'", "--give-up", "0/60s", "/bin/true");
    EXPECT(2, "invalid --give-up '5/0'", "--give-up", "5/0", "/bin/true");
    EXPECT(2, "invalid --give-up 'x/1s'", "--give-up", "x/1s", "/bin/true");
    EXPECT(2, "invalid --give-up '101/1s'", "--give-up", "101/1s", "/bin/true");
    EXPECT(2, "invalid --give-up '5/1s/'", "--give-up", "5/1s/", "/bin/true");
    EXPECT(2, "invalid --failed-retry 'later'", "--failed-retry", "later", "/bin/true");
    EXPECT(0, "Usage: zcluster", "--help");
    EXPECT(0, "zcluster " ZC_VERSION, "--version");
}

/* The health options as people write them are taken. */
void test_cli_health_options(void)
{
    struct zt_proc *p = zt_zc("-w", "1", "--control", "none", "--watchdog", "1h",
                              "--watchdog-action", "log", "--give-up", "5/60s",
                              "--max-memory", "768MiB", "--max-lifetime", "2h",
                              "--recycle-jitter", "0.2", "--backoff-jitter", "0",
                              "--failed-retry", "0", "--recycle-spacing", "1m",
                              "/bin/true", NULL);

    ASSERT_EQ(zt_exit_code(p, 5000), 0);
    ASSERT_CONTAINS(p->log, "watchdog: a worker silent for 3600000 ms is logged");
    ASSERT_CONTAINS(p->log, "exiting with status 0");
    zt_proc_free(p);
}

void test_cli_listen_errors(void)
{
    struct sockaddr_in in = { .sin_family = AF_INET,
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(in);
    char busy[64], msg[128], nodir[300], marker[300];
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct stat st;

    ASSERT(fd >= 0);
    ASSERT(bind(fd, (struct sockaddr *) &in, sizeof(in)) == 0 && listen(fd, 1) == 0);
    ASSERT(getsockname(fd, (struct sockaddr *) &in, &len) == 0);
    snprintf(busy, sizeof(busy), "127.0.0.1:%u", ntohs(in.sin_port));
    snprintf(msg, sizeof(msg), "cannot listen on %s: Address already in use", busy);
    /* The helper would leave a file if it were ever started. */
    EXPECT(1, msg, "-l", busy, "--", zt_self(), "--helper", "env",
           zt_tmpdir());
    /* The second address fails after the first was bound: still nothing. */
    EXPECT(1, msg, "-l", "127.0.0.1:0", "-l", busy, "--", zt_self(),
           "--helper", "env", zt_tmpdir());
    EXPECT(1, "cannot listen on 192.0.2.1:80: Cannot assign requested address",
           "-l", "192.0.2.1:80", "--", "/bin/true");
    snprintf(nodir, sizeof(nodir), "unix:%s/no/such/dir.sock", zt_tmpdir());
    EXPECT(1, "No such file or directory", "-l", nodir, "--", "/bin/true");
    snprintf(marker, sizeof(marker), "%s/env.0", zt_tmpdir());
    ASSERT(stat(marker, &st) == -1);
    close(fd);
}

/* The tool uses the public header only, so it links against libzcluster.so
 * too; that build reads the same table: the same --help, the same errors.
 * --help names every row of the table with the default zc_options_init()
 * sets. */
void test_cli_shared_library(void)
{
    char shared[PATH_MAX], line[160];
    char help_arg[] = "--help", surge[] = "--max-surge", zero[] = "0";
    char tru[] = "/bin/true";
    char *argv_s[] = { shared, help_arg, NULL };
    char *argv_a[] = { (char *) zt_zcluster(), help_arg, NULL };
    char *bad[] = { shared, surge, zero, tru, NULL };
    struct zt_proc *s, *a;
    const zc_option_info *i;

    snprintf(shared, sizeof(shared), "%.*s/zcluster-shared",
             (int) (strrchr(zt_zcluster(), '/') - zt_zcluster()), zt_zcluster());
    s = zt_start(argv_s, NULL);
    a = zt_start(argv_a, NULL);
    ASSERT_EQ(zt_exit_code(s, 5000), 0);
    ASSERT_EQ(zt_exit_code(a, 5000), 0);
    zt_pump(s, 100);
    zt_pump(a, 100);
    ASSERT_STREQ(s->log, a->log);
    /* Each option and its default: docs_options_agree (wrapping and all). */
    for (size_t k = 0; (i = zc_option_get(k)); k++) {
        snprintf(line, sizeof(line), "--%s%s%s", i->name, i->arg ? " " : "",
                 i->arg ? i->arg : "");
        ASSERT_CONTAINS(a->log, line);
    }
    zt_proc_free(s);
    zt_proc_free(a);
    s = zt_start(bad, NULL);
    ASSERT_EQ(zt_exit_code(s, 5000), 2);
    zt_pump(s, 100);
    ASSERT_CONTAINS(s->log, "invalid --max-surge '0': expected a whole number "
                    "from 1 to 4096");
    zt_proc_free(s);
}
