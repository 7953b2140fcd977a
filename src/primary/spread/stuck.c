/*
 * A worker that does not accept strands what the kernel queued on its
 * socket: with a socket per slot nobody else takes it. What can be seen
 * from outside is the socket's accept queue and, with the eBPF
 * round-robin, how many connections the program sent there. Connections
 * leave a queue only when the worker accepts them (or when we move them:
 * then the watch rebases), so:
 *
 *   taken = sent since the last look − growth of the queue
 *
 * and without the count, a queue that shrank or emptied was taken from.
 * A queue that stays non-empty with nothing taken for ZC__STUCK_AFTER_MS
 * (ZC__STUCK_UNPROVEN_MS for a worker ready by a timer and never seen
 * taking one) is a deaf, wedged or stopped worker. Without the count a
 * worker that takes exactly as many as arrive, its queue never shrinking,
 * looks the same: it is taken out, drains, and is back at the next look,
 * which is what an overloaded worker wants anyway.
 */
#include "base/backoff.h"
#include "primary/spread/stuck.h"

enum stuck_verdict zc__stuck_judge(struct stuck_slot *s,
                                   const struct stuck_seen *seen, bool trusted,
                                   uint64_t now_us)
{
    uint64_t limit_ms;
    bool took;

    if (seen->counted) {
        uint64_t sent = seen->steered - s->steered;
        int64_t grew = (int64_t) seen->queued - (int64_t) s->queued;

        took = (int64_t) sent > grew;
    } else {
        took = seen->queued < s->queued;
    }
    s->steered = seen->steered;
    s->queued = seen->queued;
    if (took)
        s->woke_us = 0;
    if (took) {
        s->proven = true;
        s->since_us = seen->queued ? now_us : 0;
        return STUCK_TAKES;
    }
    if (!seen->queued) {
        s->since_us = 0;
        return STUCK_IDLE;
    }
    /* What its socket woke the watch for has waited since then. */
    if (!s->since_us)
        s->since_us = s->woke_us && s->woke_us < now_us ? s->woke_us : now_us;
    limit_ms =
        trusted || s->proven ? ZC__STUCK_AFTER_MS : ZC__STUCK_UNPROVEN_MS;
    return now_us - s->since_us >= limit_ms * 1000ull ? STUCK_DEAF
                                                      : STUCK_WAITS;
}

void zc__stuck_rebase(struct stuck_slot *s, const struct stuck_seen *seen)
{
    s->steered = seen->steered;
    s->queued = seen->queued;
    s->since_us = 0;
}

void zc__stuck_back(struct stuck_slot *s)
{
    s->out = false;
    s->since_us = 0;
    /* The wake-up that started its wait came before it went out. */
    s->woke_us = 0;
}

void zc__stuck_reset(struct stuck_slot *s, uint64_t worker)
{
    /* What was seen of the socket stays: it is the slot's, not the
     * worker's. */
    *s = (struct stuck_slot) { .worker = worker,
                               .steered = s->steered,
                               .queued = s->queued,
                               .woke_us = s->woke_us };
}

uint64_t zc__stuck_retry_ms(unsigned tries)
{
    return zc__backoff_ms(ZC__STUCK_RETRY_MS, 2, ZC__STUCK_RETRY_MAX_MS, tries);
}
