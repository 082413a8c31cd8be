/* media clock — a paced real-time source: one callback per media frame.
 *
 * A generated or re-encoded stream (sine tone, mixer output, compositor)
 * must leave at exactly its media rate: 50 packets/s for 20 ms audio, with
 * neither drift (the receiver's jitter buffer would slowly fill or starve)
 * nor bursts. The clock calls cb(clock, index, user) for frame index 0, 1,
 * 2, ... where frame n is due at start + n·period (uv_hrtime, ns). So the
 * sender derives its RTP timestamp from the index (ts = base + n·960 for
 * 20 ms Opus) and the timestamps track real time.
 *
 * No drift: every wake-up is scheduled from the ideal time of the next
 * frame, never from "now + period", so the lateness of one wake-up (timer
 * granularity is 1 ms, and the loop may be busy) is not carried into the
 * next. Over any run the number of ticks is floor(elapsed / period) + 1.
 *
 * Catch-up rule: if the loop was blocked and L frames are due at one
 * wake-up, then
 *  - L <= max_catchup (default 5, i.e. up to 100 ms behind): all L are
 *    delivered back to back, indices consecutive, so the stream has no gap
 *    and a receiver's jitter buffer absorbs the short burst;
 *  - L > max_catchup: the backlog is dropped and only the newest due frame
 *    is delivered; its index jumps ahead (the skipped indices are counted in
 *    tern_media_clock_skipped). A receiver sees a timestamp gap, i.e. loss,
 *    and conceals it, instead of a long burst that would overflow its
 *    buffer. In no case is more than max_catchup frames sent at once.
 *
 * Lifetime (libuv's rules): the struct is owned by the caller, zeroed before
 * its first use (= {0} or calloc), and embeds a
 * uv_timer_t, so it must stay in place until the close callback has run.
 * cb runs on the loop thread only, never from inside start/stop/close. From
 * inside cb it is allowed to call stop or close (no further cb then, even if
 * more backlog frames were due); free the memory in on_closed, not in cb.
 */
#ifndef TERN_MEDIA_CLOCK_H
#define TERN_MEDIA_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define TERN_MEDIA_CLOCK_MAX_CATCHUP 5

struct tern_media_clock;
typedef void (*tern_media_clock_cb)(struct tern_media_clock *clock, uint64_t index, void *user);
typedef void (*tern_media_clock_closed_cb)(struct tern_media_clock *clock, void *user);

struct tern_media_clock {
  uv_timer_t timer;
  uint64_t start_ns;  /* ideal time of frame 0 */
  uint64_t period_ns;
  uint64_t next;      /* index of the next frame to deliver */
  uint64_t skipped;   /* frames dropped by the catch-up rule */
  unsigned max_catchup;
  tern_media_clock_cb cb;
  tern_media_clock_closed_cb on_closed;
  void *user;
  unsigned generation; /* bumped by start/stop: a tick loop notices a restart */
  bool initialised, running, closing;
};

/* Starts ticking now: frame 0 is due immediately (delivered on the next loop
 * iteration), frame n at now + n·period_ms. The first call initialises the
 * timer; after a stop, start again restarts from index 0 on the same timer.
 * 0, or -EINVAL (period_ms 0 or > 10000, no cb, closing). */
int tern_media_clock_start(struct tern_media_clock *clock, uv_loop_t *loop,
                           unsigned period_ms, tern_media_clock_cb cb, void *user);
/* 1..1000 frames; takes effect at the next wake-up. 0 or -EINVAL. */
int tern_media_clock_set_max_catchup(struct tern_media_clock *clock, unsigned frames);
/* No more callbacks until the next start. Safe from inside cb. */
void tern_media_clock_stop(struct tern_media_clock *clock);
/* Stops and closes the timer; on_closed (may be NULL) runs on a later loop
 * iteration, after which the memory may be freed. Safe from inside cb. A
 * clock that was never started needs no close. */
void tern_media_clock_close(struct tern_media_clock *clock, tern_media_clock_closed_cb on_closed);
uint64_t tern_media_clock_skipped(const struct tern_media_clock *clock);

#endif
