/* In-process Beep conversation: ten of Tern's client-role peers, each
 * sending its own Opus tone, connected to ten server peers that sit in one
 * conversation (the mixer). Each client decodes what it receives and must
 * find exactly the other nine tones and not its own. Then one client moves
 * to another conversation and the tones follow. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "apps/conversation.h"
#include "core/log.h"
#include "dtls/cert.h"
#include "dtls/dtls.h"
#include "media/opus.h"
#include "media/tone.h"
#include "net/transport.h"
#include "peer/peer.h"
#include "rtp/rtp.h"
#include "sctp/sctp.h"
#include "test.h"

#define N 10
#define HEAR_SAMPLES 24000 /* the last 0.5 s of what a client heard */

static uv_loop_t loop;

struct endpoint {
  struct tern_transport transport;
  struct tern_peer_env env;
};

struct client {
  int index;
  double freq;
  struct endpoint ep;
  struct tern_peer *peer, *server_peer;
  struct tern_track *track, *server_track;
  enum tern_peer_state state, server_state;
  struct tern_tone tone;
  struct tern_opus_enc *enc;
  struct tern_opus_dec *dec;
  uint32_t ts;
  int16_t heard[HEAR_SAMPLES];
  size_t heard_pos, heard_total;
  struct tern_room_member *member;
};

static struct client clients[N];
static struct endpoint server;
static struct tern_cert *cert;
static struct tern_dtls_ctx *dtls;
static struct tern_sctp_stack *sctp;

static void env_init(struct endpoint *e) {
  REQUIRE(tern_transport_init(&e->transport, &loop, "127.0.0.1", 0) == 0);
  e->env.loop = &loop;
  e->env.transport = &e->transport;
  e->env.dtls = dtls;
  e->env.fingerprint = tern_cert_fingerprint(cert);
  e->env.sctp = sctp;
  e->env.n_candidates = tern_transport_host_addresses(&e->transport, NULL, e->env.candidates,
                                                      TERN_PEER_MAX_CANDIDATES);
  e->env.consent_timeout_ms = 10000;
  e->env.handshake_timeout_ms = 5000;
}

static void on_client_state(struct tern_peer *p, void *user, enum tern_peer_state s) {
  (void)p;
  ((struct client *)user)->state = s;
}

static void on_server_state(struct tern_peer *p, void *user, enum tern_peer_state s) {
  (void)p;
  ((struct client *)user)->server_state = s;
}

static void on_server_track(struct tern_peer *p, void *user, struct tern_track *t) {
  (void)p;
  ((struct client *)user)->server_track = t;
}

static void on_heard(struct tern_track *t, void *user, const uint8_t *pkt, size_t len) {
  struct client *c = user;
  struct tern_rtp rtp;
  int16_t pcm[TERN_OPUS_MAX_FRAME];
  (void)t;
  if (tern_rtp_parse(pkt, len, &rtp) < 0)
    return;
  int n = tern_opus_decode(c->dec, rtp.payload, rtp.payload_len, pcm, TERN_OPUS_MAX_FRAME);
  for (int i = 0; i < n; i++) {
    c->heard[c->heard_pos] = pcm[i];
    c->heard_pos = (c->heard_pos + 1) % HEAR_SAMPLES;
  }
  if (n > 0)
    c->heard_total += (size_t)n;
}

static const struct tern_peer_ops client_ops = {.state = on_client_state};
static const struct tern_peer_ops server_ops = {.state = on_server_state,
                                                .track = on_server_track};
static const struct tern_track_ops hear_ops = {.rtp = on_heard};

/* Each client speaks one Opus frame of its tone per 20 ms of real time: a
 * late timer (a loaded machine) sends the frames that are due, as a
 * microphone's capture would, instead of leaving a gap. */
static uint64_t speak_start_ns, frames_spoken;

static void speak_one(void);

static void on_speak(uv_timer_t *t) {
  (void)t;
  uint64_t due = (uv_hrtime() - speak_start_ns) / 20000000ULL;
  for (int n = 0; frames_spoken < due && n < 10; n++, frames_spoken++)
    speak_one();
  if (frames_spoken < due)
    frames_spoken = due; /* more than 200 ms behind: skip, like a clock */
}

static void speak_one(void) {
  int16_t pcm[TERN_OPUS_FRAME_20MS];
  uint8_t pkt[TERN_OPUS_MAX_PACKET];
  for (int i = 0; i < N; i++) {
    struct client *c = &clients[i];
    tern_tone_fill(&c->tone, pcm, TERN_OPUS_FRAME_20MS);
    int n = tern_opus_encode(c->enc, pcm, TERN_OPUS_FRAME_20MS, pkt, sizeof pkt);
    c->ts += TERN_OPUS_FRAME_20MS;
    if (n > 0)
      tern_track_send_payload(c->track, pkt, (size_t)n, c->ts, false);
  }
}

/* Power of one frequency in the last HEAR_SAMPLES samples (Goertzel). */
static double power_at(const struct client *c, double freq) {
  double w = 2 * M_PI * freq / 48000.0, coeff = 2 * cos(w), s1 = 0, s2 = 0;
  for (size_t i = 0; i < HEAR_SAMPLES; i++) {
    double x = c->heard[(c->heard_pos + i) % HEAR_SAMPLES] / 32768.0;
    double s0 = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

static void run_ms(unsigned ms) {
  uint64_t until = uv_now(&loop) + ms;
  while (uv_now(&loop) < until) {
    uv_run(&loop, UV_RUN_NOWAIT);
    usleep(500);
    uv_update_time(&loop);
  }
}

static bool all_connected(void) {
  for (int i = 0; i < N; i++)
    if (clients[i].state != TERN_PEER_CONNECTED || clients[i].server_state != TERN_PEER_CONNECTED)
      return false;
  return true;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Checks what client c hears. `present` (a bitmask of client indexes) are
 * the tones it must hear, the others it must not. Opus at voice bitrates
 * codes a ten-tone mix with a noise floor some 30 dB under the tones and
 * may code one band coarsely, so: every absent tone at least 15 dB under
 * the median present tone (it is at the noise floor, not merely quieter),
 * and every present tone at least 6 dB over the loudest absent one. */
static void check_hearing(const struct client *c, unsigned present, const char *when) {
  double db[N], pres[N], loudest_absent = -INFINITY, weakest_present = INFINITY;
  int np = 0;
  for (int j = 0; j < N; j++) {
    db[j] = 10 * log10(power_at(c, clients[j].freq) + 1e-12);
    if (present & (1u << j)) {
      pres[np++] = db[j];
      if (db[j] < weakest_present)
        weakest_present = db[j];
    } else if (db[j] > loudest_absent) {
      loudest_absent = db[j];
    }
  }
  qsort(pres, (size_t)np, sizeof pres[0], cmp_double);
  double median = pres[np / 2];
  bool ok = loudest_absent <= median - 15 && weakest_present >= loudest_absent + 6;
  if (!ok) {
    fprintf(stderr, "client %d (%s): median heard %.1f dB, loudest absent %.1f, weakest present %.1f:",
            c->index, when, median, loudest_absent, weakest_present);
    for (int j = 0; j < N; j++)
      fprintf(stderr, " %.0fHz%s=%.1f", clients[j].freq, present & (1u << j) ? "" : "(x)", db[j]);
    fprintf(stderr, "\n");
  }
  CHECK(ok);
}

static void test_ten_participants_hear_each_other(void) {
  char err[256];
  struct tern_rooms *rooms = tern_rooms_create(&loop);
  REQUIRE(rooms);
  env_init(&server);
  for (int i = 0; i < N; i++) {
    struct client *c = &clients[i];
    c->index = i;
    /* Spaced by a factor of 1.4, so each tone has an Opus band to itself
     * (tones sharing a band mask each other in the codec), and off any even
     * grid, where the mix's intermodulation products (f1 + f2 − f3) would
     * land on every participant's own tone. Even numbers sit on a 2 Hz
     * Goertzel bin of the 0.5 s window. */
    static const double freqs[N] = {300, 420, 590, 830, 1162, 1630, 2282, 3196, 4474, 6264};
    c->freq = freqs[i];
    env_init(&c->ep);
    REQUIRE(tern_tone_init(&c->tone, 48000, 1, c->freq, 0.08) == 0);
    c->enc = tern_opus_enc_create(1, 32000, 5);
    c->dec = tern_opus_dec_create(1);
    REQUIRE(c->enc && c->dec);
    c->peer = tern_peer_create(&c->ep.env, true, &client_ops, c, "cli");
    c->server_peer = tern_peer_create(&server.env, false, &server_ops, c, "srv");
    struct tern_track_init init = {.kind = TERN_TRACK_AUDIO, .dir = TERN_DIR_SENDRECV};
    c->track = tern_peer_add_track(c->peer, &init, &hear_ops, c);
    REQUIRE(c->track);
    /* As in Beep: the client offers, the server answers. */
    REQUIRE(tern_peer_create_offer(c->peer, err, sizeof err) == 0);
    const char *offer = tern_peer_local_description(c->peer);
    REQUIRE(tern_peer_set_remote_description(c->server_peer, TERN_SDP_OFFER, offer, strlen(offer),
                                             err, sizeof err) == 0);
    REQUIRE(c->server_track);
    REQUIRE(tern_peer_create_answer(c->server_peer, err, sizeof err) == 0);
    const char *answer = tern_peer_local_description(c->server_peer);
    CHECK(strstr(answer, "a=ice-lite") != NULL);
    REQUIRE(tern_peer_set_remote_description(c->peer, TERN_SDP_ANSWER, answer, strlen(answer), err,
                                             sizeof err) == 0);
  }
  uint64_t until = uv_now(&loop) + 8000;
  while (!all_connected() && uv_now(&loop) < until)
    run_ms(10);
  REQUIRE(all_connected());
  for (int i = 0; i < N; i++) {
    clients[i].member = tern_rooms_join(rooms, "all", clients[i].server_track, "m");
    REQUIRE(clients[i].member);
  }
  CHECK_EQ_INT(tern_rooms_count(rooms), 1);
  CHECK_EQ_INT(tern_rooms_members(rooms), N);

  uv_timer_t speak;
  uv_timer_init(&loop, &speak);
  speak_start_ns = uv_hrtime();
  frames_spoken = 0;
  uv_timer_start(&speak, on_speak, 5, 5);
  run_ms(2500);
  unsigned everyone = (1u << N) - 1;
  for (int i = 0; i < N; i++) {
    CHECK(clients[i].heard_total >= HEAR_SAMPLES);
    check_hearing(&clients[i], everyone & ~(1u << i), "one conversation");
  }

  /* Client 9 moves to conversation "other" alone: within a second the
   * others stop hearing it and it hears nobody. */
  tern_rooms_leave(clients[9].member);
  clients[9].member = tern_rooms_join(rooms, "other", clients[9].server_track, "m");
  REQUIRE(clients[9].member);
  CHECK_EQ_INT(tern_rooms_count(rooms), 2);
  run_ms(1200);
  for (int i = 0; i < 9; i++)
    check_hearing(&clients[i], everyone & ~(1u << i) & ~(1u << 9), "after the move");
  double heard9 = 0;
  for (int j = 0; j < N; j++)
    heard9 += power_at(&clients[9], clients[j].freq);
  CHECK(heard9 < power_at(&clients[0], clients[1].freq) / 100); /* ≥ 20 dB quieter */

  uv_timer_stop(&speak);
  uv_close((uv_handle_t *)&speak, NULL);
  for (int i = 0; i < N; i++)
    tern_rooms_leave(clients[i].member);
  CHECK_EQ_INT(tern_rooms_count(rooms), 0);
  tern_rooms_destroy(rooms);
  for (int i = 0; i < N; i++) {
    tern_peer_close(clients[i].peer);
    tern_peer_close(clients[i].server_peer);
  }
  uv_run(&loop, UV_RUN_NOWAIT);
  for (int i = 0; i < N; i++) {
    tern_transport_close(&clients[i].ep.transport);
    tern_opus_enc_destroy(clients[i].enc);
    tern_opus_dec_destroy(clients[i].dec);
  }
  tern_transport_close(&server.transport);
  uv_run(&loop, UV_RUN_NOWAIT);
}

int main(void) {
  tern_log_set_level(getenv("TEST_DEBUG") ? TERN_LOG_DEBUG : TERN_LOG_WARN);
  uv_loop_init(&loop);
  cert = tern_cert_generate();
  dtls = tern_dtls_ctx_create(cert);
  sctp = tern_sctp_stack_create(&loop);
  RUN(test_ten_participants_hear_each_other);
  tern_sctp_stack_destroy(sctp);
  tern_dtls_ctx_destroy(dtls);
  tern_cert_free(cert);
  uv_run(&loop, UV_RUN_NOWAIT);
  uv_run(&loop, UV_RUN_NOWAIT);
  uv_loop_close(&loop);
  return TEST_RESULT();
}
