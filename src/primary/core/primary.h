/* The primary: runs a fleet until it ends (run.c). */
#ifndef ZC_PRIMARY_H
#define ZC_PRIMARY_H

#include "zcluster.h"

/* Runs the primary until shutdown. Returns an exit status (see
 * zc_cluster_run). */
int zc__primary_run(char **argv, const zc_options *o, void *arg);

#endif
