/* The reuseport group's steering program, classic BPF (steer.c). */
#ifndef ZC_STEER_H
#define ZC_STEER_H

#include <linux/filter.h>
#include <stddef.h>

/* The most live sockets one program can name: classic BPF programs have
 * at most BPF_MAXINSNS (4096) instructions, two per socket. */
#define ZC__STEER_MAX 2040

/*
 * Writes into prog (room for cap instructions) a program that picks one of
 * the n_live socket indexes in live[] at random for each new connection;
 * with n_live 0, one that leaves the choice to the kernel's hash. Returns
 * the number of instructions, or -ENOSPC (n_live > ZC__STEER_MAX, or cap
 * < 2 * n_live + 1).
 */
int zc__steer_program(const unsigned *live, size_t n_live,
                      struct sock_filter *prog, size_t cap);

#endif
