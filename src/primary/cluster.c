/* The library's entry points: options and zc_cluster_run(). */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "base/log.h"
#include "primary/primary.h"
#include "zcluster.h"

void zc_options_init(zc_options *o)
{
    memset(o, 0, sizeof(*o));
    o->workers = 0;
    o->ready = ZC_READY_AUTO;
    o->ready_delay_ms = 1000;
    o->respawn = ZC_RESPAWN_ON_FAILURE;
    o->respawn_delay_ms = 1000;
    o->max_respawn_delay_ms = 30000;
    o->backoff_factor = 2.0;
    o->backoff_reset_ms = 10000;
    o->shutdown_timeout_ms = 30000;
    o->stop_signal = SIGTERM;
    o->ipc_max_message = ZC_IPC_MAX_MESSAGE;
    o->ipc_queue_max = 1024 * 1024;
    o->ready_timeout_ms = 10000;
    o->max_surge = 1;
    o->metrics_timeout_ms = 5000;
    o->metrics_wait_ms = 500;
    o->metrics_memory = 1024 * 1024;
    o->sticky_wait_ms = 2000;
    o->sticky_queue = 1024;
    o->proxy_timeout_ms = 5000;
}

int zc_cluster_run(int argc, char **argv, zc_worker_fn worker_fn, void *arg,
                   const zc_options *o)
{
    zc_options defaults;

    if (!o) {
        zc_options_init(&defaults);
        o = &defaults;
    }
    /* With a command this is always a primary (the tool, even when run as
     * another fleet's worker); without one, a worker runs worker_fn. */
    if (!o->command && zc_is_worker()) {
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
    return zc__primary_run(argv, o, arg);
}
