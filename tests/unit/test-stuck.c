/* The queue watch's judgement (primary/spread/stuck.c), on a fake clock. */
#include "primary/spread/stuck.h"
#include "test.h"

#define MS 1000ull

/* With the eBPF count: a worker that takes what arrives is never deaf,
 * even with its queue never empty; one that takes nothing for
 * ZC__STUCK_AFTER_MS is, and not a tick before. */
void test_stuck_counted(void)
{
    struct stuck_slot s = { 0 };
    struct stuck_seen seen = { .counted = true };
    uint64_t t = 1000 * MS;

    ASSERT_EQ(zc__stuck_judge(&s, &seen, true, t), STUCK_IDLE);
    /* 10 sent, 3 still queued: 7 taken. */
    seen = (struct stuck_seen) { .queued = 3, .counted = true, .steered = 10 };
    ASSERT_EQ(zc__stuck_judge(&s, &seen, true, t += 100 * MS), STUCK_TAKES);
    /* 5 more sent, queue 8: none taken; waits until the limit, counted
     * from the last connection taken. */
    seen.steered = 15;
    seen.queued = 8;
    ASSERT_EQ(zc__stuck_judge(&s, &seen, true, t += 100 * MS), STUCK_WAITS);
    for (unsigned ms = 200; ms < ZC__STUCK_AFTER_MS; ms += 100)
        ASSERT_EQ(zc__stuck_judge(&s, &seen, true, t += 100 * MS), STUCK_WAITS);
    ASSERT_EQ(zc__stuck_judge(&s, &seen, true, t += 100 * MS), STUCK_DEAF);
    /* Moved away by us: not taken for the worker's doing. */
    seen.queued = 0;
    zc__stuck_rebase(&s, &seen);
    ASSERT_EQ(zc__stuck_judge(&s, &seen, true, t += 100 * MS), STUCK_IDLE);
    /* A busy worker: its queue stays at 5, but 20 arrive and 20 leave. */
    seen.queued = 5;
    seen.steered += 5;
    (void) zc__stuck_judge(&s, &seen, true, t += 100 * MS);
    for (int i = 0; i < 20; i++) {
        seen.steered += 20;
        ASSERT_EQ(zc__stuck_judge(&s, &seen, true, t += 100 * MS), STUCK_TAKES);
    }
}

/* A worker ready by a timer and never seen taking one gets a tick, not
 * half a second; one that said it is ready gets the half second. */
void test_stuck_unproven(void)
{
    struct stuck_slot s = { 0 };
    struct stuck_seen seen = { .queued = 3, .counted = true, .steered = 3 };
    uint64_t t = 1000 * MS;

    ASSERT_EQ(zc__stuck_judge(&s, &seen, false, t), STUCK_WAITS);
    ASSERT_EQ(zc__stuck_judge(&s, &seen, false, t + ZC__STUCK_UNPROVEN_MS * MS),
              STUCK_DEAF);
    s = (struct stuck_slot) { 0 };
    ASSERT_EQ(zc__stuck_judge(&s, &seen, true, t), STUCK_WAITS);
    ASSERT_EQ(zc__stuck_judge(&s, &seen, true, t + ZC__STUCK_UNPROVEN_MS * MS),
              STUCK_WAITS);
}

/* Without a count (classic steering) only a shrinking queue is seen. */
void test_stuck_uncounted(void)
{
    struct stuck_slot s = { 0 };
    struct stuck_seen seen = { .queued = 4 };
    uint64_t t = 5000 * MS;

    ASSERT_EQ(zc__stuck_judge(&s, &seen, true, t), STUCK_WAITS);
    seen.queued = 2;
    ASSERT_EQ(zc__stuck_judge(&s, &seen, true, t += 100 * MS), STUCK_TAKES);
    ASSERT(s.proven);
    seen.queued = 6;
    ASSERT_EQ(zc__stuck_judge(&s, &seen, true, t += 100 * MS), STUCK_WAITS);
    ASSERT_EQ(zc__stuck_judge(&s, &seen, true, t += ZC__STUCK_AFTER_MS * MS),
              STUCK_DEAF);
    seen.queued = 0;
    ASSERT_EQ(zc__stuck_judge(&s, &seen, true, t += 100 * MS), STUCK_TAKES);
    ASSERT_EQ(zc__stuck_judge(&s, &seen, true, t += 100 * MS), STUCK_IDLE);
    /* A new worker starts judged afresh; the base stays the socket's. */
    s.out = true;
    zc__stuck_reset(&s, 7);
    ASSERT(!s.out && !s.proven);
    ASSERT_EQ(s.worker, 7);
}

/* The retry's backoff: 1 s, doubling, capped. */
void test_stuck_retry(void)
{
    ASSERT_EQ(zc__stuck_retry_ms(0), ZC__STUCK_RETRY_MS);
    ASSERT_EQ(zc__stuck_retry_ms(1), ZC__STUCK_RETRY_MS);
    ASSERT_EQ(zc__stuck_retry_ms(2), 2 * ZC__STUCK_RETRY_MS);
    ASSERT_EQ(zc__stuck_retry_ms(100), ZC__STUCK_RETRY_MAX_MS);
}

/* A worker stopped while connections waited, then continued 400 ms
 * later: the time it was out does not count, so it is not judged deaf at
 * its first look back (spread_stopped_worker failed once on this: the
 * wake-up time from before the stop made it "stuck" at once). */
void test_stuck_back_after_stop(void)
{
    struct stuck_slot s = { 0 };
    struct stuck_seen seen = { .queued = 3 };
    uint64_t t = 1000 * MS;

    s.woke_us = t;
    ASSERT_EQ(zc__stuck_judge(&s, &seen, true, t += 100 * MS), STUCK_WAITS);
    /* stopped: out, what waited moved away */
    s.out = true;
    seen.queued = 0;
    zc__stuck_rebase(&s, &seen);
    /* continued 400 ms later, something waits again at once */
    t += 400 * MS;
    zc__stuck_back(&s);
    seen.queued = 2;
    ASSERT(!s.out);
    ASSERT_EQ(zc__stuck_judge(&s, &seen, true, t), STUCK_WAITS);
    ASSERT_EQ(zc__stuck_judge(&s, &seen, true, t + 100 * MS), STUCK_WAITS);
    ASSERT_EQ(zc__stuck_judge(&s, &seen, true, t + ZC__STUCK_AFTER_MS * MS),
              STUCK_DEAF);
}
