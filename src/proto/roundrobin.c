/*
 * Round-robin over a SO_REUSEPORT group's live sockets, decided in the
 * kernel at each SYN by a BPF_PROG_TYPE_SK_REUSEPORT program. The classic
 * program (steer.c) can only pick at random, and 256 connections over 4
 * sockets at random land 1.1 to 1.45 apart; a counter needs a map, which
 * only eBPF has, and eBPF needs CAP_BPF here (unprivileged_bpf_disabled),
 * so this is what a root primary uses and steer.c the fallback.
 *
 * Three maps per group: a REUSEPORT_SOCKARRAY with slot k's socket at
 * index k (a socket can be in one place of one such map), an ARRAY of one
 * value { counter, n_live, live[] }, and an ARRAY of a count per slot, the
 * connections sent to it (what status and /metrics show of the spread).
 * The live set changes by one update of the state's value, never by
 * loading a program again. The update is a copy the
 * program may read halfway; the worst it can do is send one connection to
 * a slot just left out, whose socket the primary keeps open, so it waits
 * for that slot's next worker rather than being lost.
 *
 *   r6 = ctx
 *   r0 = lookup(state, 0)                    never fails: an array of one
 *   r1 = fetch_add32(&r0->counter, 1)        shared by every CPU
 *   r2 = r0->n_live; if r2 == 0: pass        the kernel's hash
 *   w1 %= w2; if r1 >= MAX: pass             the bound is for the verifier
 *   r7 = r0->live[r1]                        the slot picked
 *   if sk_select_reuseport(ctx, socks, &r0->live[r1], 0) != 0: pass
 *   counts[r7] += 1                          chosen: counted, per slot
 *   pass                                     SK_PASS, chosen or not
 *
 * The kernel is its test (tests/integration/test-balance.c).
 */
#include <errno.h>
#include <stdbool.h>
#include <linux/bpf.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "proto/roundrobin.h"

/* The kernel's own "not supported" (include/linux/errno.h), which libc's
 * errno.h does not define: what BPF returns for a program type it lacks. */
#define ZC__ENOTSUPP 524

#ifndef SO_ATTACH_REUSEPORT_EBPF
#define SO_ATTACH_REUSEPORT_EBPF 52
#endif

struct rr_state {
    uint32_t counter;
    uint32_t n_live;
    uint32_t live[ZC__RR_MAX];
};

static int sys_bpf(int cmd, union bpf_attr *attr)
{
    long r = syscall(SYS_bpf, cmd, attr, sizeof(*attr));

    return r < 0 ? -errno : (int) r;
}

static int map_create(uint32_t type, uint32_t value_size, uint32_t entries)
{
    union bpf_attr a;

    memset(&a, 0, sizeof(a));
    a.map_type = type;
    a.key_size = sizeof(uint32_t);
    a.value_size = value_size;
    a.max_entries = entries;
    return sys_bpf(BPF_MAP_CREATE, &a);
}

static int map_lookup(int map, uint32_t key, void *value)
{
    union bpf_attr a;

    memset(&a, 0, sizeof(a));
    a.map_fd = (uint32_t) map;
    a.key = (uint64_t) (uintptr_t) &key;
    a.value = (uint64_t) (uintptr_t) value;
    return sys_bpf(BPF_MAP_LOOKUP_ELEM, &a);
}

static int map_update(int map, uint32_t key, const void *value)
{
    union bpf_attr a;

    memset(&a, 0, sizeof(a));
    a.map_fd = (uint32_t) map;
    a.key = (uint64_t) (uintptr_t) &key;
    a.value = (uint64_t) (uintptr_t) value;
    a.flags = BPF_ANY;
    return sys_bpf(BPF_MAP_UPDATE_ELEM, &a);
}

#define INSN(c, d, s, o, i) ((struct bpf_insn) { .code = (c), .dst_reg = (d), \
                              .src_reg = (s), .off = (o), .imm = (i) })

/*
 * The program is written as it reads, its jumps named by their target: a
 * forward jump to "pass" is emitted with no offset and patched when the
 * label is placed, so no offset is counted by hand.
 */
#define PROG_MAX 48
#define JUMPS_MAX 8

struct emit {
    struct bpf_insn v[PROG_MAX];
    size_t n;
    size_t to_pass[JUMPS_MAX];  /* jumps waiting for the "pass" label */
    size_t n_to_pass;
    bool overflow;
};

static void put(struct emit *e, struct bpf_insn i)
{
    if (e->n < PROG_MAX)
        e->v[e->n++] = i;
    else
        e->overflow = true;
}

static void jump_to_pass(struct emit *e, struct bpf_insn j)
{
    if (e->n_to_pass < JUMPS_MAX)
        e->to_pass[e->n_to_pass++] = e->n;
    else
        e->overflow = true;
    put(e, j);
}

/* Two instructions: the map's fd, which the kernel turns into its address. */
static void ld_map(struct emit *e, uint8_t reg, int fd)
{
    put(e, INSN(BPF_LD | BPF_DW | BPF_IMM, reg, BPF_PSEUDO_MAP_FD, 0, fd));
    put(e, INSN(0, 0, 0, 0, 0));
}

/* r0 = lookup(map, the u32 key at fp+key_off); to "pass" if there is
 * none. */
static void lookup_or_pass(struct emit *e, int map, int16_t key_off)
{
    ld_map(e, BPF_REG_1, map);
    put(e, INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0));
    put(e, INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, key_off));
    put(e, INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem));
    jump_to_pass(e, INSN(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 0, 0));
}

/* Places "pass" here: every jump to it lands on the next instruction. */
static void label_pass(struct emit *e)
{
    for (size_t k = 0; k < e->n_to_pass; k++)
        e->v[e->to_pass[k]].off = (int16_t) (e->n - e->to_pass[k] - 1);
}

static int load(int state, int socks, int counts)
{
    const int32_t live_off = (int32_t) offsetof(struct rr_state, live);
    static const char license[] = "Dual MIT/GPL";
    struct emit e = { .n = 0 };
    union bpf_attr a;
    int r;

    put(&e, INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0));
    put(&e, INSN(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -4, 0));
    lookup_or_pass(&e, state, -4);
    put(&e, INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 1));
    put(&e, INSN(BPF_STX | BPF_ATOMIC | BPF_W, BPF_REG_0, BPF_REG_1,
                 (int16_t) offsetof(struct rr_state, counter),
                 BPF_ADD | BPF_FETCH));
    put(&e, INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_0,
                 (int16_t) offsetof(struct rr_state, n_live), 0));
    jump_to_pass(&e, INSN(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_2, 0, 0, 0));
    put(&e, INSN(BPF_ALU | BPF_MOD | BPF_X, BPF_REG_1, BPF_REG_2, 0, 0));
    jump_to_pass(&e, INSN(BPF_JMP | BPF_JGE | BPF_K, BPF_REG_1, 0, 0,
                          ZC__RR_MAX));
    put(&e, INSN(BPF_ALU64 | BPF_LSH | BPF_K, BPF_REG_1, 0, 0, 2));
    put(&e, INSN(BPF_ALU64 | BPF_ADD | BPF_X, BPF_REG_0, BPF_REG_1, 0, 0));
    /* The slot picked, kept in r7 (calls keep r6 to r9) and at fp-8 as
     * the key of its count. */
    put(&e, INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_7, BPF_REG_0,
                 (int16_t) live_off, 0));
    put(&e, INSN(BPF_STX | BPF_MEM | BPF_W, BPF_REG_10, BPF_REG_7, -8, 0));
    put(&e, INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_0, 0, 0));
    put(&e, INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_3, 0, 0, live_off));
    put(&e, INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_6, 0, 0));
    ld_map(&e, BPF_REG_2, socks);
    put(&e, INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_4, 0, 0, 0));
    put(&e, INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_sk_select_reuseport));
    /* Not chosen (an empty place): the kernel's hash, not counted. */
    jump_to_pass(&e, INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_0, 0, 0, 0));
    lookup_or_pass(&e, counts, -8);
    put(&e, INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 1));
    put(&e,
        INSN(BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_0, BPF_REG_1, 0, BPF_ADD));
    label_pass(&e);
    put(&e, INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, SK_PASS));
    put(&e, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    if (e.overflow)
        return -E2BIG;          /* a program grown past PROG_MAX */
    memset(&a, 0, sizeof(a));
    a.prog_type = BPF_PROG_TYPE_SK_REUSEPORT;
    /* SELECT_OR_MIGRATE (Linux 5.14): the kernel also asks it where the
     * connections queued on a socket that closes go, whatever
     * net.ipv4.tcp_migrate_req says; an older kernel gets SELECT. */
    a.expected_attach_type = BPF_SK_REUSEPORT_SELECT_OR_MIGRATE;
    a.insns = (uint64_t) (uintptr_t) e.v;
    a.insn_cnt = (uint32_t) e.n;
    a.license = (uint64_t) (uintptr_t) license;
    r = sys_bpf(BPF_PROG_LOAD, &a);
    if (r == -EINVAL) {
        a.expected_attach_type = BPF_SK_REUSEPORT_SELECT;
        r = sys_bpf(BPF_PROG_LOAD, &a);
    }
    return r;
}

int zc__rr_open(struct zc__rr *rr)
{
    struct rr_state *zero;
    int r;

    *rr = ZC__RR_CLOSED;
    r = rr->socks = map_create(BPF_MAP_TYPE_REUSEPORT_SOCKARRAY,
                               sizeof(uint64_t), ZC__RR_MAX);
    if (r >= 0)
        r = rr->state =
            map_create(BPF_MAP_TYPE_ARRAY, sizeof(struct rr_state), 1);
    if (r >= 0) {
        /* The value the kernel made is zero already; written once so that
         * a kernel that refuses the size says so here. */
        zero = calloc(1, sizeof(*zero));
        r = zero ? map_update(rr->state, 0, zero) : -ENOMEM;
        free(zero);
    }
    if (r >= 0)
        r = rr->counts =
            map_create(BPF_MAP_TYPE_ARRAY, sizeof(uint64_t), ZC__RR_MAX);
    if (r >= 0)
        r = rr->prog = load(rr->state, rr->socks, rr->counts);
    if (r < 0) {
        zc__rr_close(rr);
        return r == -ENOTSUP || r == -ZC__ENOTSUPP ? -ENOTSUP : r;
    }
    return 0;
}

int zc__rr_add(struct zc__rr *rr, unsigned index, int fd)
{
    uint64_t v = (uint64_t) fd;
    int r;

    if (index >= ZC__RR_MAX)
        return -ENOSPC;
    r = map_update(rr->socks, index, &v);
    return r < 0 ? r : 0;
}

int zc__rr_live(struct zc__rr *rr, const unsigned *live, unsigned n)
{
    struct rr_state *s;
    int r;

    if (n > ZC__RR_MAX)
        return -ENOSPC;
    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->n_live = n;
    for (unsigned i = 0; i < n; i++)
        s->live[i] = live[i];
    r = map_update(rr->state, 0, s);
    free(s);
    return r < 0 ? r : 0;
}

int zc__rr_count(const struct zc__rr *rr, unsigned index, uint64_t *n)
{
    int r;

    if (rr->counts < 0 || index >= ZC__RR_MAX)
        return -ENOENT;
    r = map_lookup(rr->counts, index, n);
    return r < 0 ? r : 0;
}

int zc__rr_attach(struct zc__rr *rr, int fd)
{
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, &rr->prog,
                      sizeof(rr->prog)) < 0 ? -errno : 0;
}

void zc__rr_close(struct zc__rr *rr)
{
    if (rr->prog >= 0)
        (void) close(rr->prog);
    if (rr->state >= 0)
        (void) close(rr->state);
    if (rr->socks >= 0)
        (void) close(rr->socks);
    if (rr->counts >= 0)
        (void) close(rr->counts);
    *rr = ZC__RR_CLOSED;
}
