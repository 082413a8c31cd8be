/* negotiate — count REST negotiations against a running server, one after
 * the other (latency, not throughput: nothing else competes for the two
 * processes), and the distribution of each step's duration. */
#include <stdio.h>
#include <stdlib.h>

#include "client.h"
#include "stats.h"

enum {
  S_POST,        /* POST /connections: request → full response */
  S_ANSWER,      /* client: apply the offer, create the answer */
  S_ANSWER_POST, /* POST remote-description: request → response */
  S_ICE,         /* answer POSTed → client ICE connected */
  S_DTLS,        /* answer POSTed → client DTLS connected */
  S_OPEN,        /* answer POSTed → data channel open */
  S_RTT,         /* ping → pong */
  S_DELETE,      /* DELETE: request → response */
  S_TOTAL,       /* POST /connections → data channel open */
  S__COUNT,
};

static const char *labels[S__COUNT] = {
    [S_POST] = "POST /connections -> response",
    [S_ANSWER] = "offer applied + answer created (client)",
    [S_ANSWER_POST] = "POST answer -> response",
    [S_ICE] = "answer POSTed -> ICE connected (client)",
    [S_DTLS] = "answer POSTed -> DTLS connected (client)",
    [S_OPEN] = "answer POSTed -> data channel open",
    [S_RTT] = "ping -> pong",
    [S_DELETE] = "DELETE -> response",
    [S_TOTAL] = "POST /connections -> data channel open",
};

struct negotiate {
  struct bc_client c;
  const struct bc_opts *o;
  struct bc_session *sessions;
  uv_timer_t pause; /* between runs: each starts on a quiet server */
  unsigned started, finished;
  struct bc_samples s[S__COUNT];
  int rc;
};

static void start_next(struct negotiate *n);
static void on_pause_over(uv_timer_t *t) { start_next(t->data); }

static void record(struct negotiate *n, const struct bc_session *s) {
  const struct bc_times *t = &s->t;
  double v[S__COUNT] = {
      [S_POST] = bc_ms(t->post_start, t->post_done),
      [S_ANSWER] = bc_ms(t->post_done, t->answer_done),
      [S_ANSWER_POST] = bc_ms(t->answer_post_start, t->answer_post_done),
      [S_ICE] = bc_ms(t->answer_post_start, t->ice_connected),
      [S_DTLS] = bc_ms(t->answer_post_start, t->peer_connected),
      [S_OPEN] = bc_ms(t->answer_post_start, t->channel_open),
      [S_RTT] = bc_ms(t->ping_sent, t->pong_received),
      [S_DELETE] = bc_ms(t->delete_start, t->delete_done),
      [S_TOTAL] = bc_ms(t->post_start, t->channel_open),
  };
  for (int i = 0; i < S__COUNT; i++)
    if (bc_samples_add(&n->s[i], v[i]) < 0)
      n->rc = 1;
  if (n->o->verbose)
    printf("run %u %.8s post %.3f answer %.3f post-answer %.3f ice %.3f dtls %.3f open %.3f "
           "rtt %.3f delete %.3f ms\n",
           n->finished + 1, s->id, v[S_POST], v[S_ANSWER], v[S_ANSWER_POST], v[S_ICE],
           v[S_DTLS], v[S_OPEN], v[S_RTT], v[S_DELETE]);
}

static void on_done(struct bc_session *s, void *user) {
  struct negotiate *n = user;
  if (s->step != BC_STEP_DONE) {
    bc_fail("run %u (connection %s): %s", n->finished + 1, s->id[0] ? s->id : "-", s->err);
    n->rc = 1;
    uv_stop(&n->c.loop);
    return;
  }
  record(n, s);
  bc_session_release(s);
  if (++n->finished == n->o->count)
    uv_stop(&n->c.loop);
  else if (n->o->pause_ms)
    uv_timer_start(&n->pause, on_pause_over, n->o->pause_ms, 0);
  else
    start_next(n);
}

static void start_next(struct negotiate *n) {
  struct bc_session *s = &n->sessions[n->started];
  if (bc_session_start(s, &n->c.target, false, on_done, NULL, n) < 0) {
    bc_fail("run %u: %s", n->started + 1, s->err);
    n->rc = 1;
    uv_stop(&n->c.loop);
    return;
  }
  n->started++;
}

int bc_run_negotiate(const struct bc_opts *o) {
  struct negotiate n = {.o = o};
  if (bc_client_init(&n.c, o) < 0)
    return 1;
  n.sessions = calloc(o->count, sizeof *n.sessions);
  if (!n.sessions) {
    bc_fail("out of memory");
    bc_client_finish(&n.c, NULL, 0);
    return 1;
  }
  uv_timer_init(&n.c.loop, &n.pause);
  n.pause.data = &n;
  uint64_t t0 = uv_hrtime();
  start_next(&n);
  if (!n.rc)
    uv_run(&n.c.loop, UV_RUN_DEFAULT);
  double wall = bc_ms(t0, uv_hrtime());
  bc_client_finish(&n.c, n.sessions, n.started);
  free(n.sessions);

  if (!n.rc) {
    printf("negotiate: %u connections to %s/%s, one at a time (%u ms apart), in %.1f s\n",
           n.finished, o->url, o->example, o->pause_ms, wall / 1000);
    bc_samples_print_header(stdout);
    for (int i = 0; i < S__COUNT; i++)
      bc_samples_print(stdout, labels[i], &n.s[i]);
    /* A lost first DTLS flight costs one retransmission timeout (Tern's
     * initial RTO is 400 ms): count those runs rather than hide them in p95. */
    unsigned slow = 0;
    for (size_t i = 0; i < n.s[S_OPEN].n; i++)
      slow += n.s[S_OPEN].v[i] > 100.0;
    printf("  %u of %u runs took over 100 ms from answer to open\n", slow, n.finished);
  }
  for (int i = 0; i < S__COUNT; i++)
    bc_samples_free(&n.s[i]);
  return n.rc;
}
