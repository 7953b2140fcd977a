/*
 * The classic BPF program that steers a SO_REUSEPORT group's new
 * connections to the sockets whose slots have a worker taking them. Run
 * by the kernel at each SYN: it returns an index into the group's sockets
 * (the order they started listening in), and an index past the end makes
 * the kernel fall back to its own hash. Classic BPF needs no privilege
 * (SO_ATTACH_REUSEPORT_CBPF), and re-attaching replaces the program
 * atomically, so the live set can change at every worker's birth or death.
 *
 *   ld  random              a fresh 32-bit random number per connection
 *   mod #n_live
 *   jeq #0, ret live[0]     a jump table: one test and one return each
 *   jeq #1, ret live[1]
 *   ...
 *   ret live[n_live - 1]
 *
 * Pure; the kernel is its test (tests/integration/test-balance.c).
 */
#include <errno.h>
#include <linux/filter.h>
#include <stdint.h>

#include "proto/steer.h"

int zc__steer_program(const unsigned *live, size_t n_live,
                      struct sock_filter *prog, size_t cap)
{
    size_t n = 0;

    if (n_live == 0) {
        /* Nobody takes connections: the kernel's hash over all of them,
         * so they wait in the queues of slots that are coming back. */
        if (cap < 1)
            return -ENOSPC;
        prog[n++] = (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, UINT32_MAX);
        return (int) n;
    }
    if (n_live > ZC__STEER_MAX || cap < 2 * n_live + 1)
        return -ENOSPC;
    prog[n++] =
        (struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                      (uint32_t) (SKF_AD_OFF + SKF_AD_RANDOM));
    if (n_live > 1)
        prog[n++] = (struct sock_filter) BPF_STMT(BPF_ALU | BPF_MOD | BPF_K,
                                                  (uint32_t) n_live);
    for (size_t i = 0; i + 1 < n_live; i++) {
        prog[n++] = (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
                                                  (uint32_t) i, 0, 1);
        prog[n++] = (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, live[i]);
    }
    prog[n++] =
        (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, live[n_live - 1]);
    return (int) n;
}
