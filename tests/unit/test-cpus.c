/* The worker count from what this process may use (base/cpus.c): cgroup
 * v2 cpu.max files, read from sample trees. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cpus.h"
#include "test.h"

void test_cpus_cpu_max_parse(void)
{
    double c = -1;

    ASSERT_EQ(zc__cpu_max_parse("max 100000\n", &c), 0);
    ASSERT(c == 0);
    ASSERT_EQ(zc__cpu_max_parse("150000 100000\n", &c), 1);
    ASSERT(c == 1.5);
    ASSERT_EQ(zc__cpu_max_parse("50000 100000", &c), 1);
    ASSERT(c == 0.5);
    ASSERT_EQ(zc__cpu_max_parse("200000", &c), 1); /* default period */
    ASSERT(c == 2);
    ASSERT_EQ(zc__cpu_max_parse("", &c), -EINVAL);
    ASSERT_EQ(zc__cpu_max_parse("0 100000", &c), -EINVAL);
    ASSERT_EQ(zc__cpu_max_parse("12 0", &c), -EINVAL);
    ASSERT_EQ(zc__cpu_max_parse("12x 100000", &c), -EINVAL);
    ASSERT_EQ(zc__cpu_max_parse("-5 100000", &c), -EINVAL);
    ASSERT_EQ(zc__cpu_max_parse("1 2 3", &c), -EINVAL);
    ASSERT_EQ(zc__cpu_max_parse("max 0", &c), -EINVAL);
}

/* A sample tree: the cgroup line, and cpu.max in some directories. */
static void tree(const char *root, const char *own, const char *a_max,
                 const char *ab_max)
{
    char path[400];

    snprintf(path, sizeof(path), "%s/a/b", root);
    (void) mkdir(root, 0755);
    snprintf(path, sizeof(path), "%s/a", root);
    (void) mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/a/b", root);
    (void) mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/cgroup", root);
    zt_write_file(path, own);
    snprintf(path, sizeof(path), "%s/a/cpu.max", root);
    if (a_max)
        zt_write_file(path, a_max);
    else
        (void) remove(path);
    snprintf(path, sizeof(path), "%s/a/b/cpu.max", root);
    if (ab_max)
        zt_write_file(path, ab_max);
    else
        (void) remove(path);
}

void test_cpus_cgroup_quota(void)
{
    char root[300], proc[330], how[512];

    snprintf(root, sizeof(root), "%s/cg", zt_tmpdir());
    snprintf(proc, sizeof(proc), "%s/cgroup", root);

    /* 1.5 CPUs of 8: 2 workers, and where that came from. */
    tree(root, "1:cpu:/\n0::/a/b\n", "max 100000\n", "150000 100000\n");
    ASSERT_EQ(zc__cpus_from(proc, root, 8, how, sizeof(how)), 2);
    ASSERT_CONTAINS(how, "the cgroup's CPU quota: 1.5 CPUs (");
    ASSERT_CONTAINS(how, "/a/b/cpu.max), rounded up; the affinity has 8");
    /* A parent's quota binds when it is lower. */
    tree(root, "0::/a/b\n", "100000 100000\n", "300000 100000\n");
    ASSERT_EQ(zc__cpus_from(proc, root, 8, how, sizeof(how)), 1);
    ASSERT_CONTAINS(how, "/a/cpu.max");
    /* Less than one CPU: one worker, said. */
    tree(root, "0::/a/b\n", NULL, "20000 100000\n");
    ASSERT_EQ(zc__cpus_from(proc, root, 4, how, sizeof(how)), 1);
    ASSERT_CONTAINS(how, "0.2 CPUs");
    ASSERT_CONTAINS(how, "rounded up to one worker");
    /* A quota above the affinity: the affinity. */
    tree(root, "0::/a/b\n", NULL, "800000 100000\n");
    ASSERT_EQ(zc__cpus_from(proc, root, 2, how, sizeof(how)), 2);
    ASSERT_CONTAINS(how, "2 CPUs in this process's affinity");
    /* No limit anywhere. */
    tree(root, "0::/a/b\n", "max 100000\n", NULL);
    ASSERT_EQ(zc__cpus_from(proc, root, 3, how, sizeof(how)), 3);
    /* Malformed: fall back to the affinity, and say so. */
    tree(root, "0::/a/b\n", NULL, "lots\n");
    ASSERT_EQ(zc__cpus_from(proc, root, 6, how, sizeof(how)), 6);
    ASSERT_CONTAINS(how, "does not read as a CPU quota: 'lots'; ignored");
    /* Unreadable (a directory where the file should be): said, ignored. */
    tree(root, "0::/a/b\n", NULL, NULL);
    snprintf(how, sizeof(how), "%s/a/b/cpu.max", root);
    ASSERT_EQ(mkdir(how, 0755), 0);
    ASSERT_EQ(zc__cpus_from(proc, root, 6, how, sizeof(how)), 6);
    ASSERT_CONTAINS(how, "cpu.max cannot be read: Is a directory; ignored");
    snprintf(how, sizeof(how), "%s/a/b/cpu.max", root);
    ASSERT_EQ(rmdir(how), 0);
    /* No cgroup v2 line (cgroup v1), or no file at all. */
    tree(root, "1:cpu:/\n", NULL, "100000 100000\n");
    ASSERT_EQ(zc__cpus_from(proc, root, 5, how, sizeof(how)), 5);
    ASSERT_EQ(zc__cpus_from("/nonexistent/cgroup", root, 5, how, sizeof(how)),
              5);
    ASSERT_CONTAINS(how, "5 CPUs in this process's affinity");
}
