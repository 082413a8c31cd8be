/* test_media_clock — a real uv loop: pacing without drift over 2 s, the
 * catch-up rule after an artificial block, stop/close/restart from cb. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "media/clock.h"
#include "test.h"

#define MAXT 400

struct run {
  struct tern_media_clock clock;
  uv_timer_t stopper;
  uv_check_t check; /* counts loop iterations: callbacks in one iteration are one burst */
  uint64_t iteration;
  uint64_t iter[MAXT];
  uint64_t t[MAXT];   /* hrtime of each callback */
  uint64_t idx[MAXT]; /* index of each callback */
  int n;
  uint64_t block_at[2];
  unsigned block_ms[2];
  int close_at; /* close from inside cb at this index, -1 = never */
  bool closed;
  int after_close; /* callbacks after close (must stay 0) */
};

static void on_closed(struct tern_media_clock *c, void *user) {
  (void)c;
  ((struct run *)user)->closed = true;
}

static void on_tick(struct tern_media_clock *c, uint64_t index, void *user) {
  struct run *r = user;
  if (r->closed || c->closing)
    r->after_close++;
  if (r->n < MAXT) {
    r->t[r->n] = uv_hrtime();
    r->idx[r->n] = index;
    r->iter[r->n] = r->iteration;
    r->n++;
  }
  for (int i = 0; i < 2; i++)
    if (r->block_ms[i] && index == r->block_at[i])
      usleep(r->block_ms[i] * 1000); /* the loop is "blocked" by slow work */
  if (r->close_at >= 0 && index == (uint64_t)r->close_at) {
    tern_media_clock_close(c, on_closed);
    uv_close((uv_handle_t *)&r->check, NULL);
  }
}

static void on_check(uv_check_t *h) { ((struct run *)h->data)->iteration++; }

static void on_stopper(uv_timer_t *t) {
  struct run *r = t->data;
  tern_media_clock_close(&r->clock, on_closed);
  uv_close((uv_handle_t *)t, NULL);
  uv_close((uv_handle_t *)&r->check, NULL);
}

static void run_for(struct run *r, unsigned ms) {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  REQUIRE(tern_media_clock_start(&r->clock, &loop, 20, on_tick, r) == 0);
  uv_check_init(&loop, &r->check);
  r->check.data = r;
  uv_check_start(&r->check, on_check);
  uv_unref((uv_handle_t *)&r->check);
  if (ms) {
    uv_timer_init(&loop, &r->stopper);
    r->stopper.data = r;
    uv_timer_start(&r->stopper, on_stopper, ms, 0);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(r->closed);
  CHECK_EQ_INT(uv_loop_close(&loop), 0);
}

static struct run *new_run(void) {
  struct run *r = calloc(1, sizeof(*r));
  r->close_at = -1;
  return r;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Most callbacks delivered in one loop iteration (one timer wake-up). */
static int max_burst(const struct run *r) {
  int best = 1, cur = 1;
  for (int i = 1; i < r->n; i++) {
    cur = r->iter[i] == r->iter[i - 1] ? cur + 1 : 1;
    if (cur > best)
      best = cur;
  }
  return best;
}

/* Nanoseconds this thread has spent runnable but waiting for a CPU
 * (/proc/thread-self/schedstat, field 2), or -1 if unknown. */
static int64_t runqueue_wait_ns(void) {
  FILE *f = fopen("/proc/thread-self/schedstat", "r");
  if (!f)
    return -1;
  unsigned long long run, wait;
  int ok = fscanf(f, "%llu %llu", &run, &wait) == 2;
  fclose(f);
  return ok ? (int64_t)wait : -1;
}

/* ~2 s: 100 ticks ± 1, never early, paced at 20 ms, and no drift.
 * Other processes on the machine (parallel builds) can deschedule us for
 * tens or hundreds of ms; the assertions are the clock's invariants, which
 * hold regardless: every frame index is accounted for (delivered or
 * counted as skipped), drift shows as the *best* lateness growing over the
 * run (a loaded scheduler does not make every tick late, a clock
 * scheduling "now + 20 ms" gains ≥ 1 ms per tick), bursts stay bounded.
 * The max-spacing bound is checked when the thread was not kept waiting
 * for a CPU (schedstat), since no timer can be punctual then. */
static void test_paced_no_drift(void) {
  struct run *r = new_run();
  int64_t wait0 = runqueue_wait_ns();
  run_for(r, 1990);
  int64_t waited = wait0 < 0 ? -1 : runqueue_wait_ns() - wait0;
  uint64_t skipped = tern_media_clock_skipped(&r->clock);
  fprintf(stderr, "  ticks in 1990 ms: %d (+%llu skipped); waited for a CPU %.1f ms\n", r->n,
          (unsigned long long)skipped, waited / 1e6);
  REQUIRE(r->n > 30);
  CHECK(r->n + (int)skipped >= 99 && r->n + (int)skipped <= 101);
  CHECK_EQ_INT(r->idx[r->n - 1] + 1, r->n + (int)skipped);
  uint64_t start = r->clock.start_ns;
  uint64_t max_late = 0, sum_late = 0, best_late_end = UINT64_MAX, jumps = 0;
  static uint64_t gaps[MAXT];
  for (int i = 0; i < r->n; i++) {
    if (i) {
      CHECK(r->idx[i] > r->idx[i - 1]);
      jumps += r->idx[i] - r->idx[i - 1] - 1;
      gaps[i - 1] = r->t[i] - r->t[i - 1];
    }
    uint64_t ideal = start + r->idx[i] * 20000000ull;
    CHECK(r->t[i] >= ideal); /* never early */
    uint64_t late = r->t[i] - ideal;
    sum_late += late;
    if (late > max_late)
      max_late = late;
    if (i >= r->n - 25 && late < best_late_end)
      best_late_end = late;
  }
  CHECK_EQ_INT(jumps, skipped);
  qsort(gaps, (size_t)r->n - 1, sizeof(gaps[0]), cmp_u64);
  uint64_t median = gaps[(r->n - 1) / 2], max_gap = gaps[r->n - 2];
  fprintf(stderr,
          "  lateness mean %.2f ms, max %.2f ms, best of the last 25 %.2f ms; "
          "spacing median %.2f ms, max %.2f ms\n",
          sum_late / 1e6 / r->n, max_late / 1e6, best_late_end / 1e6, median / 1e6,
          max_gap / 1e6);
  CHECK(median > 18000000 && median < 22000000);
  CHECK(best_late_end < 5000000); /* no drift: 100 ticks later, still on time */
  CHECK(max_burst(r) <= TERN_MEDIA_CLOCK_MAX_CATCHUP);
  if (waited >= 0 && waited < 10000000) {
    CHECK(max_gap < 35000000);
    CHECK_EQ_INT(skipped, 0);
  } else {
    fprintf(stderr, "  (machine busy: max-spacing bound not checked)\n");
  }
  CHECK_EQ_INT(r->after_close, 0);
  free(r);
}

/* A 50 ms block (2–3 frames late, under the limit of 5) is caught up in one
 * burst with no index lost; a 300 ms block (15 frames) skips ahead: one
 * frame, index jumps to the wall clock, the rest counted as skipped. */
static void test_catch_up_rule(void) {
  struct run *r = new_run();
  r->block_at[0] = 10;
  r->block_ms[0] = 50;
  r->block_at[1] = 30;
  r->block_ms[1] = 300;
  run_for(r, 1400);
  REQUIRE(r->n > 40);
  int burst = max_burst(r);
  fprintf(stderr, "  ticks %d, skipped %llu, max burst %d\n", r->n,
          (unsigned long long)tern_media_clock_skipped(&r->clock), burst);
  CHECK(burst >= 2);                            /* the 50 ms block was caught up at once */
  CHECK(burst <= TERN_MEDIA_CLOCK_MAX_CATCHUP); /* never more than the limit */
  uint64_t jumped = 0;
  int jump_at = -1;
  for (int i = 0; i < r->n; i++) {
    uint64_t wall = (r->t[i] - r->clock.start_ns) / 20000000ull;
    CHECK(r->idx[i] <= wall); /* never early */
    if (i && r->idx[i] != r->idx[i - 1] + 1) {
      CHECK(r->idx[i] > r->idx[i - 1]);
      jumped += r->idx[i] - r->idx[i - 1] - 1;
      CHECK(r->iter[i] != r->iter[i - 1]);          /* a skip is its own wake-up */
      CHECK(i + 1 >= r->n || r->iter[i + 1] != r->iter[i]); /* ... delivering one frame */
      CHECK(r->idx[i] + 1 >= wall);                 /* ... the one due now */
      /* The 300 ms block is in frame 30's callback; on a loaded machine the
       * skip can land a frame or two later, but not before it. */
      if (r->idx[i - 1] >= 30 && jump_at < 0)
        jump_at = i;
    }
  }
  CHECK_EQ_INT(tern_media_clock_skipped(&r->clock), jumped);
  REQUIRE(jump_at > 0); /* the long block made a skip */
  CHECK(r->idx[jump_at] - r->idx[jump_at - 1] >= 12); /* ≈ 300 ms / 20 ms */
  free(r);
}

/* max_catchup is honoured: with 2, a 70 ms block already skips. */
static void test_custom_catch_up(void) {
  struct run *r = new_run();
  REQUIRE(tern_media_clock_set_max_catchup(&r->clock, 2) == 0);
  r->block_at[0] = 5;
  r->block_ms[0] = 75;
  run_for(r, 400);
  CHECK(max_burst(r) <= 2);
  CHECK(tern_media_clock_skipped(&r->clock) >= 2);
  free(r);
}

/* close from inside cb: no further callback, on_closed runs, the loop ends. */
static void test_close_from_callback(void) {
  struct run *r = new_run();
  r->close_at = 3;
  r->block_at[0] = 2;
  r->block_ms[0] = 50; /* so that 3 is part of a backlog: the rest must not run */
  run_for(r, 0);
  CHECK_EQ_INT(r->n, 4);
  CHECK_EQ_INT(r->after_close, 0);
  free(r);
}

static void test_bad_arguments(void) {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  struct tern_media_clock c = {0};
  CHECK_EQ_INT(tern_media_clock_start(&c, &loop, 0, on_tick, NULL), -EINVAL);
  CHECK_EQ_INT(tern_media_clock_start(&c, &loop, 20, NULL, NULL), -EINVAL);
  CHECK_EQ_INT(tern_media_clock_set_max_catchup(&c, 0), -EINVAL);
  tern_media_clock_close(&c, NULL); /* never started: nothing to close */
  CHECK_EQ_INT(uv_loop_close(&loop), 0);
}

int main(void) {
  RUN(test_bad_arguments);
  RUN(test_paced_no_drift);
  RUN(test_catch_up_rule);
  RUN(test_custom_catch_up);
  RUN(test_close_from_callback);
  return TEST_RESULT();
}
