/* In-process peer connections: Tern's client role against its server role
 * over real loopback UDP sockets — ICE, DTLS, SCTP and data channels, with
 * no browser. The same code paths a browser exercises on the server side. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "core/log.h"
#include "dtls/cert.h"
#include "dtls/dtls.h"
#include "net/transport.h"
#include "peer/peer.h"
#include "sctp/sctp.h"
#include "test.h"

struct side {
  const char *name;
  struct tern_transport transport;
  struct tern_cert *cert;
  struct tern_dtls_ctx *dtls;
  struct tern_peer_env env;
  struct tern_peer *peer;
  enum tern_peer_state state;
  struct tern_dc *dc;
  bool open, closed;
  unsigned texts, next_expected;
  bool order_ok;
  size_t big_len;
  bool big_ok;
};

static uv_loop_t loop;
static struct tern_sctp_stack *sctp;

static void on_state(struct tern_peer *p, void *user, enum tern_peer_state s) {
  struct side *side = user;
  (void)p;
  side->state = s;
}

static void on_message(struct tern_dc *dc, void *user, const uint8_t *buf, size_t len,
                       bool binary) {
  struct side *s = user;
  (void)dc;
  if (!binary) {
    char tmp[32];
    size_t n = len < sizeof tmp - 1 ? len : sizeof tmp - 1;
    memcpy(tmp, buf, n);
    tmp[n] = 0;
    if ((unsigned)atoi(tmp + 4) != s->next_expected)
      s->order_ok = false;
    s->next_expected++;
    s->texts++;
    return;
  }
  s->big_len = len;
  s->big_ok = true;
  for (size_t i = 0; i < len; i++)
    if (buf[i] != (uint8_t)(i * 7 + 3)) {
      s->big_ok = false;
      break;
    }
}

static void on_open(struct tern_dc *dc, void *user) {
  struct side *s = user;
  (void)dc;
  s->open = true;
}

static void on_closed(struct tern_dc *dc, void *user) {
  struct side *s = user;
  (void)dc;
  s->closed = true;
}

static const struct tern_dc_ops dc_ops = {
    .open = on_open, .message = on_message, .closed = on_closed};

static void on_remote_channel(struct tern_peer *p, void *user, struct tern_dc *dc) {
  struct side *s = user;
  (void)p;
  s->dc = dc;
  tern_dc_set_ops(dc, &dc_ops, s);
}

static const struct tern_peer_ops peer_ops = {.state = on_state, .datachannel = on_remote_channel};

static void side_init(struct side *s, const char *name) {
  memset(s, 0, sizeof *s);
  s->name = name;
  s->order_ok = true;
  REQUIRE(tern_transport_init(&s->transport, &loop, "127.0.0.1", 0) == 0);
  s->cert = tern_cert_generate();
  REQUIRE(s->cert);
  s->dtls = tern_dtls_ctx_create(s->cert);
  REQUIRE(s->dtls);
  s->env.loop = &loop;
  s->env.transport = &s->transport;
  s->env.dtls = s->dtls;
  s->env.fingerprint = tern_cert_fingerprint(s->cert);
  s->env.sctp = sctp;
  s->env.n_candidates =
      tern_transport_host_addresses(&s->transport, NULL, s->env.candidates, TERN_PEER_MAX_CANDIDATES);
  s->env.consent_timeout_ms = 10000;
  s->env.handshake_timeout_ms = 5000;
}

static void side_free(struct side *s) {
  tern_peer_close(s->peer);
  uv_run(&loop, UV_RUN_NOWAIT); /* let the peer's deferred free run */
  tern_transport_close(&s->transport);
  uv_run(&loop, UV_RUN_NOWAIT);
  tern_dtls_ctx_destroy(s->dtls);
  tern_cert_free(s->cert);
}

/* Runs the loop until cond holds or ms pass; returns cond. */
#define RUN_UNTIL(cond, ms)                                                    \
  ({                                                                           \
    uint64_t until_ = uv_now(&loop) + (ms);                                    \
    while (!(cond) && uv_now(&loop) < until_) {                                \
      uv_update_time(&loop);                                                   \
      uv_run(&loop, UV_RUN_NOWAIT);                                            \
      if (!(cond))                                                             \
        usleep(200);                                                           \
    }                                                                          \
    (cond);                                                                    \
  })

/* Server offers with one channel; the client answers; the answer goes back.
 * tamper_offer/tamper_answer replace the fingerprint with a wrong one. */
static void negotiate(struct side *srv, struct side *cli, bool tamper_offer, bool tamper_answer) {
  char err[256] = "";
  srv->peer = tern_peer_create(&srv->env, false, &peer_ops, srv, "srv");
  cli->peer = tern_peer_create(&cli->env, true, &peer_ops, cli, "cli");
  REQUIRE(srv->peer && cli->peer);
  struct tern_dc_init init = {.label = "chat", .protocol = "", .ordered = true,
                              .max_retransmits = -1, .max_packet_life_time = -1, .id = -1};
  srv->dc = tern_peer_create_datachannel(srv->peer, &init, &dc_ops, srv);
  REQUIRE(srv->dc);
  REQUIRE(tern_peer_create_offer(srv->peer, err, sizeof err) == 0);
  char *offer = strdup(tern_peer_local_description(srv->peer));
  if (tamper_offer) {
    char *fp = strstr(offer, "sha-256 ");
    REQUIRE(fp);
    fp[8] = fp[8] == 'A' ? 'B' : 'A';
  }
  int rc = tern_peer_set_remote_description(cli->peer, TERN_SDP_OFFER, offer, strlen(offer), err,
                                            sizeof err);
  free(offer);
  if (rc)
    fprintf(stderr, "client SRD: %s\n", err);
  REQUIRE(rc == 0);
  rc = tern_peer_create_answer(cli->peer, err, sizeof err);
  if (rc)
    fprintf(stderr, "client answer: %s\n", err);
  REQUIRE(rc == 0);
  char *answer = strdup(tern_peer_local_description(cli->peer));
  CHECK(strstr(answer, "a=setup:active") != NULL);
  if (tamper_answer) {
    char *fp = strstr(answer, "sha-256 ");
    REQUIRE(fp);
    fp[8] = fp[8] == 'A' ? 'B' : 'A';
  }
  rc = tern_peer_set_remote_description(srv->peer, TERN_SDP_ANSWER, answer, strlen(answer), err,
                                        sizeof err);
  free(answer);
  if (rc)
    fprintf(stderr, "server SRD: %s\n", err);
  REQUIRE(rc == 0);
}

static void test_connect_and_exchange(void) {
  struct side srv, cli;
  side_init(&srv, "server");
  side_init(&cli, "client");
  negotiate(&srv, &cli, false, false);
  REQUIRE(RUN_UNTIL(srv.state == TERN_PEER_CONNECTED && cli.state == TERN_PEER_CONNECTED, 5000));
  CHECK(tern_peer_ice_state(srv.peer) == TERN_ICE_CONNECTED);
  REQUIRE(RUN_UNTIL(srv.open && cli.dc && cli.open, 5000));
  CHECK_EQ_STR(tern_dc_label(cli.dc), "chat");

  /* 1000 messages each way, in order. */
  char msg[32];
  for (int i = 0; i < 1000; i++) {
    int n = snprintf(msg, sizeof msg, "msg %d", i);
    CHECK(tern_dc_send(srv.dc, (uint8_t *)msg, n, false) == 0);
    CHECK(tern_dc_send(cli.dc, (uint8_t *)msg, n, false) == 0);
  }
  CHECK(RUN_UNTIL(srv.texts == 1000 && cli.texts == 1000, 10000));
  CHECK_EQ_INT(srv.texts, 1000);
  CHECK_EQ_INT(cli.texts, 1000);
  CHECK(srv.order_ok && cli.order_ok);

  /* One 1 MiB binary message, client to server. */
  size_t big = 1 << 20;
  uint8_t *buf = malloc(big);
  for (size_t i = 0; i < big; i++)
    buf[i] = (uint8_t)(i * 7 + 3);
  CHECK(tern_dc_send(cli.dc, buf, big, true) == 0);
  free(buf);
  CHECK(RUN_UNTIL(srv.big_len == big, 10000));
  CHECK(srv.big_ok);

  side_free(&cli);
  side_free(&srv);
}

static void test_wrong_fingerprint_rejected(void) {
  for (int which = 0; which < 2; which++) {
    struct side srv, cli;
    side_init(&srv, "server");
    side_init(&cli, "client");
    negotiate(&srv, &cli, which == 0, which == 1);
    /* The side that holds the wrong fingerprint refuses the handshake. */
    struct side *checker = which == 0 ? &cli : &srv;
    CHECK(RUN_UNTIL(checker->state == TERN_PEER_FAILED, 8000));
    CHECK(!srv.open && !cli.open);
    CHECK(srv.state != TERN_PEER_CONNECTED || cli.state != TERN_PEER_CONNECTED);
    side_free(&cli);
    side_free(&srv);
  }
}

/* ---- media: SRTP both ways through the server's echo -------------------- */

struct media_side {
  struct tern_track *track;
  unsigned received, keyframe_requests;
  bool payload_ok;
  uint32_t last_ts;
  uint16_t last_seq;
};

static void srv_echo(struct tern_track *t, void *user, const uint8_t *pkt, size_t len) {
  (void)user;
  tern_track_send_rtp(t, pkt, len);
}

static void srv_keyframe(struct tern_track *t, void *user) {
  struct media_side *m = user;
  (void)t;
  m->keyframe_requests++;
}

static const struct tern_track_ops srv_track_ops = {.rtp = srv_echo,
                                                    .keyframe_request = srv_keyframe};

static void cli_rtp(struct tern_track *t, void *user, const uint8_t *pkt, size_t len) {
  struct media_side *m = user;
  (void)t;
  /* Our payload is 100 bytes of (seq & 0xff); the header is 12 bytes. */
  if (len != 112 || pkt[12] != pkt[111])
    m->payload_ok = false;
  m->last_ts = (uint32_t)pkt[4] << 24 | pkt[5] << 16 | pkt[6] << 8 | pkt[7];
  m->last_seq = (uint16_t)(pkt[2] << 8 | pkt[3]);
  m->received++;
}

static void cli_keyframe(struct tern_track *t, void *user) {
  (void)t;
  (void)user;
}

static const struct tern_track_ops cli_track_ops = {.rtp = cli_rtp,
                                                    .keyframe_request = cli_keyframe};

static struct media_side cli_media;

static void cli_on_track(struct tern_peer *p, void *user, struct tern_track *t) {
  (void)p;
  (void)user;
  cli_media.track = t;
  tern_track_set_ops(t, &cli_track_ops, &cli_media);
}

static const struct tern_peer_ops cli_media_ops = {.state = on_state, .track = cli_on_track};

static void test_media_echo_over_srtp(void) {
  struct side srv, cli;
  struct media_side srv_media = {0};
  char err[256];
  memset(&cli_media, 0, sizeof cli_media);
  cli_media.payload_ok = true;
  side_init(&srv, "server");
  side_init(&cli, "client");
  srv.peer = tern_peer_create(&srv.env, false, &peer_ops, &srv, "srv");
  cli.peer = tern_peer_create(&cli.env, true, &cli_media_ops, &cli, "cli");
  struct tern_track_init init = {.kind = TERN_TRACK_VIDEO, .dir = TERN_DIR_SENDRECV};
  struct tern_track *st = tern_peer_add_track(srv.peer, &init, &srv_track_ops, &srv_media);
  REQUIRE(st);
  REQUIRE(tern_peer_create_offer(srv.peer, err, sizeof err) == 0);
  const char *offer = tern_peer_local_description(srv.peer);
  CHECK(strstr(offer, "m=video 9 UDP/TLS/RTP/SAVPF 96") != NULL);
  CHECK(strstr(offer, "a=rtpmap:96 VP8/90000") != NULL);
  CHECK(strstr(offer, "a=rtcp-fb:96 nack pli") != NULL);
  CHECK(strstr(offer, "a=ssrc:") != NULL);
  REQUIRE(tern_peer_set_remote_description(cli.peer, TERN_SDP_OFFER, offer, strlen(offer), err,
                                           sizeof err) == 0);
  REQUIRE(cli_media.track); /* the offer made a transceiver on the client */
  REQUIRE(tern_peer_create_answer(cli.peer, err, sizeof err) == 0);
  const char *answer = tern_peer_local_description(cli.peer);
  CHECK(strstr(answer, "m=video 9 UDP/TLS/RTP/SAVPF 96") != NULL);
  CHECK(strstr(answer, "a=sendrecv") != NULL);
  REQUIRE(tern_peer_set_remote_description(srv.peer, TERN_SDP_ANSWER, answer, strlen(answer),
                                           err, sizeof err) == 0);
  REQUIRE(RUN_UNTIL(srv.state == TERN_PEER_CONNECTED && cli.state == TERN_PEER_CONNECTED, 5000));

  /* Before keys exist nothing may go out; after, 200 packets each carry
   * their sequence number in the payload and must come back intact. */
  uint8_t payload[100];
  for (unsigned i = 0; i < 200; i++) {
    memset(payload, (int)(i & 0xff), sizeof payload);
    CHECK(tern_track_send_payload(cli_media.track, payload, sizeof payload, i * 3000, true) == 0);
    if (i % 20 == 19)
      RUN_UNTIL(cli_media.received >= i - 5, 200);
  }
  CHECK(RUN_UNTIL(cli_media.received == 200, 5000));
  CHECK_EQ_INT(cli_media.received, 200);
  CHECK(cli_media.payload_ok);
  CHECK_EQ_INT(cli_media.last_ts, 199 * 3000);
  CHECK_EQ_INT(tern_track_get_stats(st)->packets_in, 200);
  CHECK_EQ_INT(tern_track_get_stats(st)->packets_out, 200);
  /* The client originated the stream: its sender report reached us. */
  CHECK(tern_track_get_stats(st)->sender_reports_in >= 1);

  /* NACKs: the server resends what it still has (the last 64 video
   * packets); older sequence numbers are not in the cache. */
  uint16_t last = (uint16_t)(cli_media.last_seq);
  uint16_t want[3] = {(uint16_t)(last - 1), (uint16_t)(last - 2), (uint16_t)(last - 150)};
  CHECK(tern_track_request_retransmit(cli_media.track, want, 3) == 0);
  CHECK(RUN_UNTIL(tern_track_get_stats(st)->nacks_in == 3, 2000));
  CHECK_EQ_INT(tern_track_get_stats(st)->retransmits_out, 2);

  /* A PLI from the client names the server's SSRC and reaches its track. */
  CHECK(tern_track_request_keyframe(cli_media.track) == 0);
  CHECK(RUN_UNTIL(srv_media.keyframe_requests == 1, 2000));

  side_free(&cli);
  side_free(&srv);
}

int main(void) {
  tern_log_set_level(getenv("TEST_DEBUG") ? TERN_LOG_DEBUG : TERN_LOG_WARN);
  uv_loop_init(&loop);
  sctp = tern_sctp_stack_create(&loop);
  RUN(test_connect_and_exchange);
  RUN(test_wrong_fingerprint_rejected);
  RUN(test_media_echo_over_srtp);
  tern_sctp_stack_destroy(sctp);
  uv_run(&loop, UV_RUN_NOWAIT);
  uv_loop_close(&loop);
  return TEST_RESULT();
}
