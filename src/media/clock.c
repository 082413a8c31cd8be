/* media clock — see clock.h. */
#include "media/clock.h"

#include <errno.h>

#define NS_PER_MS 1000000ull

static void on_timer(uv_timer_t *t);

/* Arms the timer for the ideal time of frame `next`. libuv fires a timer
 * once its millisecond loop time (the same monotonic clock as uv_hrtime,
 * truncated to ms) reaches uv_now() + timeout, so asking for the ms in
 * which frame `next` falls, rounded up, means it never fires early and at
 * most ~1 ms late; and that lateness is not inherited by the following
 * frame, whose due time is computed afresh from start + n·period.
 *
 * min_ms is 1 when re-arming from our own callback: a timer re-armed with
 * timeout 0 inside a timer callback runs again in the same pass of libuv's
 * timer loop, so a clock that is always behind (frames that take longer
 * than a period to make) would starve all I/O. One ms lets the loop poll. */
static void schedule(struct tern_media_clock *c, uint64_t min_ms) {
  uv_loop_t *loop = c->timer.loop;
  uint64_t due_ns = c->start_ns + c->next * c->period_ns;
  uint64_t due_ms = (due_ns + NS_PER_MS - 1) / NS_PER_MS;
  uint64_t now_ms = uv_now(loop); /* cached at the start of this iteration */
  uint64_t delay = due_ms > now_ms ? due_ms - now_ms : 0;
  uv_timer_start(&c->timer, on_timer, delay > min_ms ? delay : min_ms, 0);
}

static void on_timer(uv_timer_t *t) {
  struct tern_media_clock *c = t->data;
  if (!c->running || c->closing)
    return;
  uint64_t now = uv_hrtime();
  if (now < c->start_ns + c->next * c->period_ns) {
    schedule(c, 1); /* woke early (clock granularity): nothing due yet */
    return;
  }
  uint64_t latest = (now - c->start_ns) / c->period_ns;
  uint64_t backlog = latest - c->next + 1;
  if (backlog > c->max_catchup) {
    c->skipped += backlog - 1;
    c->next = latest;
  }
  unsigned gen = c->generation;
  while (c->next <= latest) {
    uint64_t index = c->next++;
    c->cb(c, index, c->user);
    /* cb may have stopped, closed or restarted the clock */
    if (gen != c->generation || !c->running || c->closing)
      return;
  }
  schedule(c, 1);
}

int tern_media_clock_start(struct tern_media_clock *c, uv_loop_t *loop, unsigned period_ms,
                           tern_media_clock_cb cb, void *user) {
  if (!c || !loop || !cb || period_ms == 0 || period_ms > 10000)
    return -EINVAL;
  if (c->initialised && (c->closing || c->timer.loop != loop))
    return -EINVAL;
  if (!c->initialised) {
    unsigned keep = c->max_catchup;
    *c = (struct tern_media_clock){0};
    c->max_catchup = keep >= 1 && keep <= 1000 ? keep : TERN_MEDIA_CLOCK_MAX_CATCHUP;
    if (uv_timer_init(loop, &c->timer) != 0)
      return -EINVAL;
    c->timer.data = c;
    c->initialised = true;
  } else {
    uv_timer_stop(&c->timer);
  }
  c->generation++;
  c->cb = cb;
  c->user = user;
  c->period_ns = (uint64_t)period_ms * NS_PER_MS;
  c->start_ns = uv_hrtime();
  c->next = 0;
  c->skipped = 0;
  c->running = true;
  schedule(c, 0);
  return 0;
}

int tern_media_clock_set_max_catchup(struct tern_media_clock *c, unsigned frames) {
  if (!c || frames < 1 || frames > 1000)
    return -EINVAL;
  c->max_catchup = frames;
  return 0;
}

void tern_media_clock_stop(struct tern_media_clock *c) {
  if (!c || !c->initialised || !c->running)
    return;
  c->running = false;
  c->generation++;
  uv_timer_stop(&c->timer);
}

static void on_close(uv_handle_t *h) {
  struct tern_media_clock *c = h->data;
  if (c->on_closed)
    c->on_closed(c, c->user);
}

void tern_media_clock_close(struct tern_media_clock *c, tern_media_clock_closed_cb on_closed) {
  if (!c || !c->initialised || c->closing)
    return;
  tern_media_clock_stop(c);
  c->closing = true;
  c->on_closed = on_closed;
  uv_close((uv_handle_t *)&c->timer, on_close);
}

uint64_t tern_media_clock_skipped(const struct tern_media_clock *c) { return c ? c->skipped : 0; }
