/* video-compositing: the page sends its camera; we decode the VP8, draw it
 * into a 640×480 canvas under a rotating, colour-cycling "Tern"
 * (media/compositor.h), encode VP8 and send it back on the same sendrecv
 * transceiver at a steady ~30 fps (33 ms media clock), as the seed did
 * with RTCVideoSink → node-canvas → RTCVideoSource.
 *
 * Receive: RTP → frame assembler (rtp/vp8_pack.h, handles reordering and
 * loss) → decoder. Only the newest decoded picture matters, so it is
 * converted for drawing at the next tick, not per decoded frame. When the
 * assembler or the decoder needs a key frame (start, loss, decode error),
 * we send PLI, at most one per 500 ms.
 * Send: each tick draws, encodes and packetizes one frame; the RTP
 * timestamp is the tick index × 33 ms in 90 kHz units, so it follows real
 * time even when the clock skips ticks. PLI/FIR from the browser forces a
 * key frame. Nothing is encoded before the peer is connected, so the first
 * frame the browser gets is the encoder's first, a key frame.
 */
#include <stdlib.h>

#include "apps/apps.h"
#include "core/log.h"
#include "media/clock.h"
#include "media/compositor.h"
#include "media/vp8.h"
#include "peer/peer.h"
#include "rtp/rtp.h"
#include "rtp/vp8_pack.h"

#define TICK_MS 33
#define TS_PER_TICK (TICK_MS * (TERN_VP8_RTP_CLOCK / 1000))
#define BITRATE_KBPS 800
/* Room for RTP header, SRTP tag and header extensions in a 1200-byte
 * datagram, the size browsers assume is safe on any path. */
#define MAX_PAYLOAD 1100
#define PLI_INTERVAL_NS (500ull * 1000 * 1000)
#define MAX_ENCODED (512 * 1024)

struct session {
  struct tern_conn *conn;
  struct tern_track *track;
  struct tern_media_clock clock;
  struct tern_vp8_asm *assembler;
  struct tern_vp8_dec *dec;
  struct tern_vp8_enc *enc;
  struct tern_compositor *comp;
  struct tern_vp8_packetizer packetizer;
  struct tern_i420 latest; /* the decoder's picture, valid until the next decode */
  bool have_latest, decoder_broken, have_ssrc;
  uint32_t ssrc;
  uint64_t start_ns, last_pli_ns;
  uint64_t frames_in, frames_out, decode_errors;
  uint8_t encoded[MAX_ENCODED];
};

static void maybe_request_keyframe(struct session *s) {
  uint64_t now = uv_hrtime();
  if (s->last_pli_ns && now - s->last_pli_ns < PLI_INTERVAL_NS)
    return;
  if (tern_track_request_keyframe(s->track) == 0)
    s->last_pli_ns = now;
}

static void on_rtp(struct tern_track *t, void *user, const uint8_t *pkt, size_t len) {
  struct session *s = user;
  struct tern_rtp r;
  struct tern_vp8_frame f;
  (void)t;
  if (tern_rtp_parse(pkt, len, &r) < 0 || r.payload_len == 0)
    return;
  if (s->have_ssrc && r.ssrc != s->ssrc)
    tern_vp8_asm_reset(s->assembler); /* a new stream: its sequence space is new too */
  s->ssrc = r.ssrc;
  s->have_ssrc = true;
  tern_vp8_asm_push(s->assembler, r.payload, r.payload_len, r.seq, r.timestamp, r.marker);
  while (tern_vp8_asm_pop(s->assembler, &f) == 1) {
    /* After a decode error the references are suspect until a key frame. */
    if (s->decoder_broken && !f.keyframe)
      continue;
    struct tern_i420 img;
    int rc = tern_vp8_decode(s->dec, f.data, f.len, &img);
    /* Any decode may recycle (or, on a size change, reallocate) the buffer
     * the previous picture lives in. */
    s->have_latest = false;
    if (rc < 0) {
      s->decoder_broken = true;
      s->decode_errors++;
      continue;
    }
    s->decoder_broken = false;
    s->frames_in++;
    if (rc == 1) {
      s->latest = img;
      s->have_latest = true;
    }
  }
  if (s->decoder_broken || tern_vp8_asm_need_keyframe(s->assembler))
    maybe_request_keyframe(s);
}

static void on_keyframe_request(struct tern_track *t, void *user) {
  struct session *s = user;
  (void)t;
  tern_vp8_enc_request_keyframe(s->enc);
}

static const struct tern_track_ops video_ops = {.rtp = on_rtp,
                                                .keyframe_request = on_keyframe_request};

static void on_tick(struct tern_media_clock *clock, uint64_t index, void *user) {
  struct session *s = user;
  struct tern_i420 canvas;
  struct tern_vp8_pack_iter it;
  uint8_t payload[MAX_PAYLOAD];
  bool key, marker;
  int n;
  (void)clock;
  if (tern_peer_state(tern_conn_peer(s->conn)) != TERN_PEER_CONNECTED)
    return;
  if (s->have_latest) {
    /* Decoded pictures live in the decoder until its next decode: take the
     * newest one now, and only that one. */
    tern_compositor_set_input(s->comp, &s->latest);
    s->have_latest = false;
  }
  if (tern_compositor_draw(s->comp, (double)(uv_hrtime() - s->start_ns) / 1e9, &canvas) < 0)
    return;
  n = tern_vp8_encode(s->enc, &canvas, index, s->encoded, sizeof s->encoded, &key);
  if (n <= 0)
    return;
  if (tern_vp8_pack_begin(&s->packetizer, &it, s->encoded, (size_t)n, MAX_PAYLOAD, false) < 0)
    return;
  uint32_t ts = (uint32_t)(index * TS_PER_TICK);
  while ((n = tern_vp8_pack_next(&it, payload, sizeof payload, &marker)) > 0)
    tern_track_send_payload(s->track, payload, (size_t)n, ts, marker);
  s->frames_out++;
}

static void free_session(struct session *s) {
  tern_vp8_asm_destroy(s->assembler);
  tern_vp8_dec_destroy(s->dec);
  tern_vp8_enc_destroy(s->enc);
  tern_compositor_destroy(s->comp);
  free(s);
}

static void on_clock_closed(struct tern_media_clock *clock, void *user) {
  (void)clock;
  free_session(user);
}

static int on_open(struct tern_conn *c, void *app) {
  uv_loop_t *loop = app;
  struct session *s = calloc(1, sizeof *s);
  struct tern_vp8_enc_config ec = {.width = TERN_COMPOSITOR_WIDTH,
                                   .height = TERN_COMPOSITOR_HEIGHT,
                                   .fps = 1000 / TICK_MS,
                                   .bitrate_kbps = BITRATE_KBPS};
  struct tern_track_init init = {.kind = TERN_TRACK_VIDEO, .dir = TERN_DIR_SENDRECV};
  if (!s)
    return -1;
  s->conn = c;
  s->start_ns = uv_hrtime();
  tern_vp8_packetizer_init(&s->packetizer, (uint16_t)(s->start_ns & 0x7fff));
  if (!(s->assembler = tern_vp8_asm_create(0, 0, 0)) || !(s->dec = tern_vp8_dec_create()) ||
      !(s->enc = tern_vp8_enc_create(&ec)) ||
      !(s->comp = tern_compositor_create(TERN_COMPOSITOR_WIDTH, TERN_COMPOSITOR_HEIGHT)) ||
      !(s->track = tern_peer_add_track(tern_conn_peer(c), &init, &video_ops, s)) ||
      tern_media_clock_start(&s->clock, loop, TICK_MS, on_tick, s) < 0) {
    tern_log_error(tern_conn_id(c), "video-compositing: session setup failed");
    if (s->track)
      tern_track_set_ops(s->track, NULL, NULL); /* the peer outlives s */
    if (s->clock.initialised)
      tern_media_clock_close(&s->clock, on_clock_closed);
    else
      free_session(s);
    return -1;
  }
  tern_conn_set_data(c, s);
  return 0;
}

static void on_close(struct tern_conn *c, void *app) {
  struct session *s = tern_conn_data(c);
  (void)app;
  if (!s)
    return;
  tern_conn_set_data(c, NULL);
  tern_log_info(tern_conn_id(c),
                "video-compositing: %llu frames decoded, %llu sent, %llu decode errors",
                (unsigned long long)s->frames_in, (unsigned long long)s->frames_out,
                (unsigned long long)s->decode_errors);
  /* The track's ops point at s: they stop with the peer, which the manager
   * closes right after this; the clock's handle closes asynchronously and
   * frees the session. */
  tern_track_set_ops(s->track, NULL, NULL);
  tern_media_clock_close(&s->clock, on_clock_closed);
}

static const struct tern_conn_app video_compositing = {.name = "video-compositing",
                                                       .open = on_open,
                                                       .close = on_close};

struct tern_conns *tern_app_video_compositing_mount(const struct tern_conns_env *env) {
  return tern_conns_mount(env, "/video-compositing", &video_compositing, env->loop);
}
