/*
 * A program built against an older zcluster.h, whose zc_options is
 * smaller than the library's (tests/abi/shrink.py cuts it), run against
 * this libzcluster.so.0. The library must write nothing past the
 * program's struct, take the options it has, and give the ones it lacks
 * their defaults. Exits 0 when all of that holds; says what failed else.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "zcluster.h"

#define GUARD 0xA5

/* The struct with what follows it on the stack: what an older program's
 * neighbouring variables would be. */
static struct {
    zc_options o;
    unsigned char after[1024];
} s;

static int fail(const char *what)
{
    printf("abi: %s\n", what);
    return 1;
}

static int guard_intact(void)
{
    for (size_t i = 0; i < sizeof(s.after); i++)
        if (s.after[i] != GUARD)
            return 0;
    return 1;
}

static int serve(int argc, char **argv, void *arg)
{
    (void) argc;
    (void) argv;
    (void) arg;
    return 0;
}

int main(int argc, char **argv)
{
    static char *const command[] = { "/bin/sh", "-c", "exit 0", NULL };
    const char *room[ZC_MAX_LISTEN];
    char buf[64], why[200];
    int r;

    memset(s.after, GUARD, sizeof(s.after));
    zc_options_init(&s.o);
    if (!guard_intact())
        return fail("zc_options_init wrote past the program's struct");
    if (s.o.struct_size != sizeof(s.o))
        return fail("struct_size is not the program's sizeof");
    if (zc_option_format(&s.o, "workers", buf, sizeof(buf)) < 0 ||
        strcmp(buf, "one per CPU") != 0)
        return fail("the default of workers did not read back");
    if (zc_option_set(&s.o, "workers", "2", why, sizeof(why)) != 0 ||
        s.o.workers != 2)
        return fail("zc_option_set(workers) did not set the field");
    /* An option whose field this older struct lacks: not there for it. */
    if (zc_option_set(&s.o, "kill-mode", "process", why, sizeof(why)) != -ENOENT)
        return fail("zc_option_set of a field past the struct did not say -ENOENT");
    if (zc_option_format(&s.o, "kill-mode", buf, sizeof(buf)) != -ENOENT)
        return fail("zc_option_format of a field past the struct did not say -ENOENT");
    if (!guard_intact())
        return fail("zc_option_set wrote past the program's struct");
    (void) room;
    if (zc_options_check(&s.o, false, why, sizeof(why)) != 0)
        return fail(why);
    /* A whole fleet on these options: two workers that exit 0, not
     * respawned, so it ends with 0. */
    s.o.command = command;
    s.o.respawn = ZC_RESPAWN_ON_FAILURE;
    s.o.control = "none";
    r = zc_cluster_run(argc, argv, serve, NULL, &s.o);
    if (!guard_intact())
        return fail("zc_cluster_run wrote past the program's struct");
    if (r != 0) {
        snprintf(why, sizeof(why), "zc_cluster_run returned %d, not 0", r);
        return fail(why);
    }
    printf("abi: a %zu-byte zc_options from an older header works with this "
           "library\n", sizeof(s.o));
    return 0;
}
