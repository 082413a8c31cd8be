/* sine-wave and sine-wave-stereo: the server originates a tone, encoded
 * with Opus and paced by a 20 ms media clock (50 packets/s — the reference
 * server sent ~386/s because nothing paced it). Data channel "frequency"
 * (mono) sets the pitch; "panning" (stereo, 0 = left … 100 = right) moves
 * it between the channels. The tone keeps its phase across changes, so a
 * change never clicks. */
#include <stdlib.h>
#include <string.h>

#include "apps/apps.h"
#include "core/log.h"
#include "media/clock.h"
#include "media/opus.h"
#include "media/tone.h"
#include "peer/peer.h"

#define FRAME TERN_OPUS_FRAME_20MS
#define AMPLITUDE 0.3
#define MIN_HZ 20.0
#define MAX_HZ 20000.0

struct session {
  struct tern_conn *conn;
  struct tern_track *track;
  struct tern_dc *dc;
  struct tern_media_clock clock;
  struct tern_opus_enc *enc;
  struct tern_tone tone;
  int channels;
  uint32_t timestamp;
};

static void on_tick(struct tern_media_clock *clock, uint64_t index, void *user) {
  struct session *s = user;
  int16_t pcm[FRAME * 2];
  uint8_t pkt[TERN_OPUS_MAX_PACKET];
  (void)clock;
  /* The RTP clock follows the frame index, so it stays on real time even
   * when the media clock skips frames after the loop was blocked. */
  s->timestamp = (uint32_t)(index * FRAME);
  if (tern_peer_state(tern_conn_peer(s->conn)) != TERN_PEER_CONNECTED)
    return;
  tern_tone_fill(&s->tone, pcm, FRAME);
  int n = tern_opus_encode(s->enc, pcm, FRAME, pkt, sizeof pkt);
  if (n > 0)
    tern_track_send_payload(s->track, pkt, (size_t)n, s->timestamp, false);
}

/* A number as text, as the pages send it (String(value)). */
static bool parse_number(const uint8_t *buf, size_t len, double *out) {
  char tmp[32];
  char *end;
  if (len == 0 || len >= sizeof tmp)
    return false;
  memcpy(tmp, buf, len);
  tmp[len] = 0;
  *out = strtod(tmp, &end);
  return end != tmp && *end == 0;
}

static void on_message(struct tern_dc *dc, void *user, const uint8_t *buf, size_t len,
                       bool binary) {
  struct session *s = user;
  double v;
  (void)dc;
  if (binary || !parse_number(buf, len, &v))
    return;
  if (s->channels == 1 && v >= MIN_HZ && v <= MAX_HZ) {
    tern_tone_set_frequency(&s->tone, v);
    tern_log_info(tern_conn_id(s->conn), "sine-wave: frequency %.1f Hz", v);
  } else if (s->channels == 2 && v >= 0 && v <= 100) {
    tern_tone_set_pan(&s->tone, (int)(v + 0.5));
    tern_log_info(tern_conn_id(s->conn), "sine-wave-stereo: panning %d", (int)(v + 0.5));
  }
}

static const struct tern_dc_ops channel_ops = {.message = on_message};

static void free_session(struct session *s) {
  if (s->enc)
    tern_opus_enc_destroy(s->enc);
  free(s);
}

static void on_clock_closed(struct tern_media_clock *clock, void *user) {
  (void)clock;
  free_session(user);
}

static int open_session(struct tern_conn *c, uv_loop_t *loop, int channels) {
  struct session *s = calloc(1, sizeof *s);
  if (!s)
    return -1;
  s->conn = c;
  s->channels = channels;
  struct tern_peer *p = tern_conn_peer(c);
  struct tern_track_init init = {.kind = TERN_TRACK_AUDIO, .dir = TERN_DIR_SENDONLY,
                                 .stereo = channels == 2};
  struct tern_dc_init dci = {.label = channels == 2 ? "panning" : "frequency", .protocol = "",
                             .ordered = true, .max_retransmits = -1,
                             .max_packet_life_time = -1, .id = -1};
  s->enc = tern_opus_enc_create(channels, channels == 2 ? 64000 : 32000, 5);
  if (!s->enc || tern_tone_init(&s->tone, TERN_OPUS_RATE, channels, 440.0, AMPLITUDE) < 0 ||
      !(s->track = tern_peer_add_track(p, &init, NULL, NULL)) ||
      !(s->dc = tern_peer_create_datachannel(p, &dci, &channel_ops, s)) ||
      tern_media_clock_start(&s->clock, loop, 20, on_tick, s) < 0) {
    if (s->clock.initialised) {
      tern_media_clock_close(&s->clock, on_clock_closed);
    } else {
      free_session(s);
    }
    return -1;
  }
  tern_conn_set_data(c, s);
  return 0;
}

static int open_mono(struct tern_conn *c, void *app) { return open_session(c, app, 1); }
static int open_stereo(struct tern_conn *c, void *app) { return open_session(c, app, 2); }

static void on_close(struct tern_conn *c, void *app) {
  struct session *s = tern_conn_data(c);
  (void)app;
  if (!s)
    return;
  tern_conn_set_data(c, NULL);
  /* The clock's timer handle closes asynchronously; the session goes with it. */
  tern_media_clock_close(&s->clock, on_clock_closed);
}

static const struct tern_conn_app sine_wave = {
    .name = "sine-wave", .open = open_mono, .close = on_close};
static const struct tern_conn_app sine_wave_stereo = {
    .name = "sine-wave-stereo", .open = open_stereo, .close = on_close};

struct tern_conns *tern_app_sine_wave_mount(const struct tern_conns_env *env) {
  return tern_conns_mount(env, "/sine-wave", &sine_wave, env->loop);
}

struct tern_conns *tern_app_sine_wave_stereo_mount(const struct tern_conns_env *env) {
  return tern_conns_mount(env, "/sine-wave-stereo", &sine_wave_stereo, env->loop);
}
