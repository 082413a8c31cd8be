/* idle — open N connections and hold them: each stays connected through
 * the client's ICE consent checks (every 5 s) and nothing else. Used to read
 * the server's memory per idle connected peer (bench/negotiate.sh).
 *
 * Protocol for scripts: once every connection is up (data channel open and
 * one ping answered), stdout gets the line "idle: ready N" and is flushed.
 * At the end (SIGINT, SIGTERM or --seconds) every connection is DELETEd.
 * Exit 0 when all N were set up and none dropped while held. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

struct idle {
  struct bc_client c;
  const struct bc_opts *o;
  struct bc_session *sessions;
  unsigned started, in_setup, connected, hung_up, hangups_started;
  uv_signal_t sigint, sigterm;
  uv_timer_t hold, watch;
  uint64_t t0, t_ready;
  bool stopping;
  int rc;
};

static void start_more(struct idle *d);
static void stop(struct idle *d);
static void on_hold_over(uv_timer_t *t) { stop(t->data); }
static void hang_up_more(struct idle *d);

static unsigned dropped(const struct idle *d) {
  unsigned n = 0;
  for (unsigned i = 0; i < d->started; i++)
    n += d->sessions[i].disconnected;
  return n;
}

/* Stops setting up, DELETEs what is connected (P at a time, to stay far
 * from the server's per-IP HTTP connection limit), then ends the loop. */
static void stop(struct idle *d) {
  if (d->stopping)
    return;
  d->stopping = true;
  uv_timer_stop(&d->hold);
  uv_timer_stop(&d->watch);
  hang_up_more(d);
}

static void maybe_end(struct idle *d) {
  if (d->stopping && d->in_setup == 0 && d->hung_up == d->hangups_started &&
      d->hangups_started == d->connected)
    uv_stop(&d->c.loop);
}

static void on_hung_up(struct bc_session *s, void *user) {
  struct idle *d = user;
  if (s->step != BC_STEP_DONE && !d->rc) {
    bc_fail("hanging up connection %s: %s", s->id, s->err);
    d->rc = 1;
  }
  bc_session_release(s);
  d->hung_up++;
  hang_up_more(d);
  maybe_end(d);
}

static void hang_up_more(struct idle *d) {
  unsigned i;
  for (i = 0; i < d->started && d->hangups_started - d->hung_up < d->o->parallel; i++) {
    struct bc_session *s = &d->sessions[i];
    if (s->step == BC_STEP_CONNECTED && !s->hanging_up) {
      bc_session_hangup(s);
      d->hangups_started++;
    }
  }
  maybe_end(d);
}

static void on_ready(struct bc_session *s, void *user) {
  struct idle *d = user;
  d->in_setup--;
  if (s->step != BC_STEP_CONNECTED) {
    if (!d->rc)
      bc_fail("connection %u (%s): %s", (unsigned)(s - d->sessions) + 1,
              s->id[0] ? s->id : "-", s->err);
    d->rc = 1;
    bc_session_release(s);
    stop(d);
    maybe_end(d);
    return;
  }
  d->connected++;
  if (d->o->verbose)
    printf("connected %u/%u %.8s in %.3f ms\n", d->connected, d->o->count, s->id,
           bc_ms(s->t.post_start, s->t.pong_received));
  if (d->stopping) {
    hang_up_more(d);
    return;
  }
  if (d->connected == d->o->count) {
    d->t_ready = uv_hrtime();
    printf("idle: ready %u\n", d->connected);
    fflush(stdout);
    if (d->o->seconds)
      uv_timer_start(&d->hold, on_hold_over, (uint64_t)d->o->seconds * 1000, 0);
    return;
  }
  start_more(d);
}

static void start_more(struct idle *d) {
  while (!d->stopping && d->started < d->o->count && d->in_setup < d->o->parallel) {
    struct bc_session *s = &d->sessions[d->started];
    if (bc_session_start(s, &d->c.target, true, on_ready, on_hung_up, d) < 0) {
      bc_fail("connection %u: %s", d->started + 1, s->err);
      d->rc = 1;
      stop(d);
      return;
    }
    d->started++;
    d->in_setup++;
  }
}

static void on_signal(uv_signal_t *h, int signum) {
  struct idle *d = h->data;
  if (d->connected < d->o->count && !d->rc) {
    bc_fail("interrupted (%s) with %u of %u connections up", strsignal(signum), d->connected,
            d->o->count);
    d->rc = 1;
  }
  /* A second signal gets the default action: a way out if hanging up stalls. */
  uv_signal_stop(&d->sigint);
  uv_signal_stop(&d->sigterm);
  stop(d);
}


/* -v: how many are still connected, once a second. */
static void on_watch(uv_timer_t *t) {
  struct idle *d = t->data;
  if (d->o->verbose && d->t_ready)
    printf("idle: %u connected, %u dropped\n", d->connected, dropped(d));
}

int bc_run_idle(const struct bc_opts *o) {
  struct idle d = {.o = o};
  if (bc_client_init(&d.c, o) < 0)
    return 1;
  d.sessions = calloc(o->count, sizeof *d.sessions);
  if (!d.sessions) {
    bc_fail("out of memory");
    bc_client_finish(&d.c, NULL, 0);
    return 1;
  }
  uv_signal_init(&d.c.loop, &d.sigint);
  uv_signal_init(&d.c.loop, &d.sigterm);
  d.sigint.data = d.sigterm.data = &d;
  uv_signal_start(&d.sigint, on_signal, SIGINT);
  uv_signal_start(&d.sigterm, on_signal, SIGTERM);
  uv_timer_init(&d.c.loop, &d.hold);
  uv_timer_init(&d.c.loop, &d.watch);
  d.hold.data = d.watch.data = &d;
  uv_timer_start(&d.watch, on_watch, 1000, 1000);

  d.t0 = uv_hrtime();
  start_more(&d);
  uv_run(&d.c.loop, UV_RUN_DEFAULT);
  unsigned lost = dropped(&d);
  uint64_t t_end = uv_hrtime();
  bc_client_finish(&d.c, d.sessions, d.started);
  free(d.sessions);

  if (!d.rc && lost) {
    bc_fail("%u of %u connections dropped while idle", lost, d.connected);
    d.rc = 1;
  }
  if (!d.rc)
    printf("idle: %u connections set up in %.2f s, held %.1f s, none dropped\n", d.connected,
           bc_ms(d.t0, d.t_ready) / 1000, bc_ms(d.t_ready, t_end) / 1000);
  return d.rc;
}
