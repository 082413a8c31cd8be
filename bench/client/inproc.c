/* inproc — Tern's server role and client role in this one process, over
 * loopback UDP, without HTTP: what offer/answer, ICE, DTLS and SCTP/DCEP cost
 * by themselves, and the CPU time one connection setup takes (both ends
 * together, since both run here). The server side is what ping-pong does: it
 * creates the channel "ping-pong", offers, and answers "ping" with "pong".
 * Each connection gets a fresh client socket, as in the REST modes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "client.h"
#include "stats.h"

enum {
  I_OFFER,  /* server: peer + channel + offer */
  I_ANSWER, /* client: apply the offer, answer */
  I_APPLY,  /* server: apply the answer */
  I_ICE,    /* answer applied → client ICE connected */
  I_DTLS,   /* answer applied → client DTLS connected */
  I_OPEN,   /* answer applied → channel open at the client */
  I_STACK,  /* client ICE connected → channel open: DTLS + SCTP + DCEP */
  I_RTT,    /* ping → pong */
  I_CPU,    /* process CPU time from the offer to the channel open */
  I__COUNT,
};

static const char *labels[I__COUNT] = {
    [I_OFFER] = "server: create peer + channel + offer",
    [I_ANSWER] = "client: apply offer + create answer",
    [I_APPLY] = "server: apply answer",
    [I_ICE] = "answer applied -> ICE connected (client)",
    [I_DTLS] = "answer applied -> DTLS connected (client)",
    [I_OPEN] = "answer applied -> data channel open",
    [I_STACK] = "ICE connected -> channel open (DTLS+SCTP)",
    [I_RTT] = "ping -> pong",
    [I_CPU] = "CPU time per setup, both ends (ms)",
};

struct run {
  uint64_t ice, dtls, open, pong;
  bool failed;
  struct tern_dc *cdc; /* the client's end of the channel */
};

static void srv_message(struct tern_dc *dc, void *user, const uint8_t *buf, size_t len,
                        bool binary) {
  (void)user;
  if (!binary && len == 4 && memcmp(buf, "ping", 4) == 0)
    tern_dc_send(dc, (const uint8_t *)"pong", 4, false);
}
static const struct tern_dc_ops srv_dc_ops = {.message = srv_message};

static void cli_message(struct tern_dc *dc, void *user, const uint8_t *buf, size_t len,
                        bool binary) {
  struct run *r = user;
  (void)dc;
  if (!binary && len == 4 && memcmp(buf, "pong", 4) == 0 && !r->pong)
    r->pong = uv_hrtime();
}
static const struct tern_dc_ops cli_dc_ops = {.message = cli_message};

static void cli_channel(struct tern_peer *p, void *user, struct tern_dc *dc) {
  struct run *r = user;
  (void)p;
  if (r->cdc)
    return;
  r->cdc = dc;
  r->open = uv_hrtime();
  tern_dc_set_ops(dc, &cli_dc_ops, r);
}
static void cli_ice(struct tern_peer *p, void *user, enum tern_ice_state s) {
  struct run *r = user;
  (void)p;
  if (s == TERN_ICE_CONNECTED && !r->ice)
    r->ice = uv_hrtime();
  if (s == TERN_ICE_FAILED)
    r->failed = true;
}
static void cli_state(struct tern_peer *p, void *user, enum tern_peer_state s) {
  struct run *r = user;
  (void)p;
  if (s == TERN_PEER_CONNECTED && !r->dtls)
    r->dtls = uv_hrtime();
  if (s == TERN_PEER_FAILED || s == TERN_PEER_CLOSED)
    r->failed = true;
}
static const struct tern_peer_ops cli_ops = {
    .ice_state = cli_ice, .state = cli_state, .datachannel = cli_channel};

static void on_wait_over(uv_timer_t *t) { *(bool *)t->data = true; }

/* Runs the loop until *flag becomes non-zero, r fails, or ms pass. */
static bool wait_for(uv_loop_t *loop, const uint64_t *flag, const struct run *r, unsigned ms) {
  uv_timer_t t;
  bool over = false;
  uv_timer_init(loop, &t);
  t.data = &over;
  uv_timer_start(&t, on_wait_over, ms, 0);
  while (!*flag && !r->failed && !over)
    uv_run(loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(loop, UV_RUN_NOWAIT); /* the timer lives on this stack frame */
  return *flag != 0;
}

static double cpu_ms(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* One connection; 0, or -1 with the reason printed. */
static int one(struct bc_client *c, struct tern_media *srv, struct tern_transport *ct, unsigned i,
               struct bc_samples *s, unsigned timeout_ms, bool verbose) {
  struct run r = {0};
  struct tern_peer_env cenv = c->media.env;
  struct tern_peer *sp = NULL, *cp = NULL;
  char err[256], id[16];
  int rc = -1;
  const char *what = "";

  cenv.transport = ct;
  snprintf(id, sizeof id, "srv-%u", i);
  double cpu0 = cpu_ms();
  uint64_t t0 = uv_hrtime();
  struct tern_dc_init init = {.label = "ping-pong", .protocol = "", .ordered = true,
                              .max_retransmits = -1, .max_packet_life_time = -1, .id = -1};
  if (!(sp = tern_peer_create(&srv->env, false, NULL, NULL, id)) ||
      !tern_peer_create_datachannel(sp, &init, &srv_dc_ops, NULL) ||
      tern_peer_create_offer(sp, err, sizeof err) < 0) {
    bc_fail("inproc %u: the server could not offer", i + 1);
    goto out;
  }
  uint64_t t1 = uv_hrtime();
  snprintf(id, sizeof id, "cli-%u", i);
  const char *offer = tern_peer_local_description(sp);
  if (!(cp = tern_peer_create(&cenv, true, &cli_ops, &r, id)) ||
      tern_peer_set_remote_description(cp, TERN_SDP_OFFER, offer, strlen(offer), err,
                                       sizeof err) < 0 ||
      tern_peer_create_answer(cp, err, sizeof err) < 0) {
    bc_fail("inproc %u: the client could not answer: %s", i + 1, cp ? err : "no peer");
    goto out;
  }
  uint64_t t2 = uv_hrtime();
  const char *ans = tern_peer_local_description(cp);
  if (tern_peer_set_remote_description(sp, TERN_SDP_ANSWER, ans, strlen(ans), err,
                                       sizeof err) < 0) {
    bc_fail("inproc %u: the server refused the answer: %s", i + 1, err);
    goto out;
  }
  uint64_t t3 = uv_hrtime();
  if (!wait_for(&c->loop, &r.open, &r, timeout_ms)) {
    what = !r.ice ? "ICE connected" : !r.dtls ? "DTLS connected" : "the data channel";
    bc_fail("inproc %u: no %s within %u ms%s", i + 1, what, timeout_ms,
            r.failed ? " (the connection failed)" : "");
    goto out;
  }
  double cpu = cpu_ms() - cpu0;
  uint64_t tp = uv_hrtime();
  if (tern_dc_send(r.cdc, (const uint8_t *)"ping", 4, false) < 0 ||
      !wait_for(&c->loop, &r.pong, &r, timeout_ms)) {
    bc_fail("inproc %u: no pong within %u ms", i + 1, timeout_ms);
    goto out;
  }
  double v[I__COUNT] = {
      [I_OFFER] = bc_ms(t0, t1),         [I_ANSWER] = bc_ms(t1, t2),
      [I_APPLY] = bc_ms(t2, t3),         [I_ICE] = bc_ms(t3, r.ice),
      [I_DTLS] = bc_ms(t3, r.dtls),      [I_OPEN] = bc_ms(t3, r.open),
      [I_STACK] = bc_ms(r.ice, r.open),  [I_RTT] = bc_ms(tp, r.pong),
      [I_CPU] = cpu,
  };
  for (int k = 0; k < I__COUNT; k++)
    bc_samples_add(&s[k], v[k]);
  if (verbose)
    printf("inproc %u offer %.3f answer %.3f apply %.3f ice %.3f dtls %.3f open %.3f rtt %.3f "
           "cpu %.3f ms\n",
           i + 1, v[I_OFFER], v[I_ANSWER], v[I_APPLY], v[I_ICE], v[I_DTLS], v[I_OPEN], v[I_RTT],
           v[I_CPU]);
  rc = 0;
out:
  tern_peer_close(cp);
  tern_peer_close(sp);
  uv_run(&c->loop, UV_RUN_NOWAIT); /* the peers free themselves */
  return rc;
}

int bc_run_inproc(const struct bc_opts *o) {
  struct bc_client c;
  struct tern_media srv;
  struct bc_samples s[I__COUNT] = {0};
  struct bc_opts local = *o;
  char err[256];
  int rc = 0;

  local.url = NULL;
  if (bc_client_init(&c, &local) < 0)
    return 1;
  struct tern_media_config scfg = {.host = o->bind, .port = 0,
                                   .consent_timeout_ms = 10000,
                                   .handshake_timeout_ms = o->timeout_ms};
  if (tern_media_init(&srv, &c.loop, &scfg, err, sizeof err) < 0) {
    bc_fail("server side: %s", err);
    bc_client_finish(&c, NULL, 0);
    return 1;
  }
  struct tern_transport *ts = calloc(o->count, sizeof *ts);
  for (unsigned i = 0; ts && i < o->count && !rc; i++) {
    int e = tern_transport_init(&ts[i], &c.loop, o->bind, 0);
    if (e < 0) {
      bc_fail("inproc %u: cannot bind a UDP socket on %s: %s", i + 1, o->bind, uv_strerror(e));
      rc = 1;
      break;
    }
    rc = one(&c, &srv, &ts[i], i, s, o->timeout_ms, o->verbose) < 0;
    tern_transport_close(&ts[i]);
  }
  if (!ts) {
    bc_fail("out of memory");
    rc = 1;
  }
  uv_run(&c.loop, UV_RUN_NOWAIT);
  tern_media_close(&srv);
  bc_client_finish(&c, NULL, 0);
  free(ts);
  if (!rc) {
    printf("inproc: %u connections, server and client roles in one process (no HTTP)\n",
           o->count);
    bc_samples_print_header(stdout);
    for (int k = 0; k < I__COUNT; k++)
      bc_samples_print(stdout, labels[k], &s[k]);
  }
  for (int k = 0; k < I__COUNT; k++)
    bc_samples_free(&s[k]);
  return rc;
}
