/* How many CPUs this process may use (cpus.c): the default worker count. */
#ifndef ZC_CPUS_H
#define ZC_CPUS_H

#include <stddef.h>

/* A cgroup v2 cpu.max text ("max 100000", "150000 100000"): 1 with the
 * quota in CPUs in *cpus (1.5), 0 for no limit, -EINVAL for anything
 * else. Pure, for the tests' sample files. */
int zc__cpu_max_parse(const char *text, double *cpus);

/* cpus (the affinity's count), lowered to the lowest CPU quota of this
 * process's cgroup v2 (named in proc_cgroup, "0::PATH") and the cgroups
 * above it under root, rounded up, at least 1. In how, for the log, what
 * it found and where, or why it fell back to the affinity. */
unsigned zc__cpus_from(const char *proc_cgroup, const char *root, unsigned cpus,
                       char *how, size_t size);

/* The same for this process: /proc/self/cgroup, /sys/fs/cgroup. */
unsigned zc__cpus_available(char *how, size_t size);

#endif
