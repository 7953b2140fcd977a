/* The library's entry point: zc_cluster_run() decides whether this
 * process is a worker or a primary. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "primary/core/options.h"
#include "primary/core/primary.h"
#include "primary/loop/upgrade.h"
#include "zcluster.h"

int zc_cluster_run(int argc, char **argv, zc_worker_fn worker_fn, void *arg,
                   const zc_options *o)
{
    zc_options opt;
    char why[200];

    /* The caller's struct may be from an older header: from here on the
     * library reads only its own, whole, copy. */
    if (!o) {
        zc_options_init(&opt);
    } else if (zc__options_import(&opt, o, why, sizeof(why)) < 0) {
        zc_log(ZC_LOG_ERROR, "zc:primary", "invalid options: %s", why);
        return 2;
    }
    o = &opt;
    /* With a command this is always a primary (the tool, even when run as
     * another fleet's worker); without one, a worker runs worker_fn. */
    if (!o->command && zc_self_is_worker()) {
        if (!worker_fn) {
            zc_log(ZC_LOG_ERROR, "zc:worker", "started as a worker, but "
                   "zc_cluster_run() was given no worker function");
            return 2;
        }
        return worker_fn(argc, argv, arg);
    }
    if (argc < 1 || !argv || (!o->command && !worker_fn)) {
        zc_log(ZC_LOG_ERROR, "zc:primary", "zc_cluster_run() needs argv and "
               "either a worker function or options.command");
        return 2;
    }
    /* An upgrade's preflight (loop/upgrade.c): the options were read as
     * the primary's would be; say whether the fleet's state is readable. */
    if (getenv("ZC_UPGRADE_CHECK"))
        return zc__upgrade_check(getenv("ZC_UPGRADE_CHECK"));
    return zc__primary_run(argv, o, arg);
}
