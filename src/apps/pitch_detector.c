/* pitch-detector: the server decodes the client's Opus audio, finds its
 * fundamental frequency and sends it on data channel "frequency" as a JSON
 * number, as the seed did — at most every REPORT_FRAMES frames (100 ms), so
 * a 50 packets/s stream does not become 50 messages/s. Lost packets are
 * concealed by the decoder (seen as gaps in the RTP sequence). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/apps.h"
#include "core/log.h"
#include "media/opus.h"
#include "media/pitch.h"
#include "peer/peer.h"
#include "rtp/rtp.h"

#define REPORT_FRAMES 5
#define MAX_CONCEALED 5 /* beyond that a gap is a restart, not loss */

struct session {
  struct tern_conn *conn;
  struct tern_dc *dc;
  struct tern_opus_dec *dec;
  struct tern_pitch *pitch;
  bool have_seq;
  uint16_t next_seq;
  unsigned frames;
};

static void on_rtp(struct tern_track *t, void *user, const uint8_t *pkt, size_t len) {
  struct session *s = user;
  int16_t pcm[TERN_OPUS_MAX_FRAME];
  (void)t;
  struct tern_rtp rtp;
  if (tern_rtp_parse(pkt, len, &rtp) < 0 || rtp.payload_len == 0)
    return;
  uint16_t seq = rtp.seq;
  if (s->have_seq) {
    int16_t gap = (int16_t)(seq - s->next_seq);
    if (gap < 0)
      return; /* late or duplicate: its time has passed */
    for (int i = 0; i < gap && i < MAX_CONCEALED; i++) {
      int n = tern_opus_decode(s->dec, NULL, 0, pcm, TERN_OPUS_FRAME_20MS);
      if (n > 0)
        tern_pitch_push(s->pitch, pcm, n);
    }
  }
  s->have_seq = true;
  s->next_seq = (uint16_t)(seq + 1);
  int n = tern_opus_decode(s->dec, rtp.payload, rtp.payload_len, pcm, TERN_OPUS_MAX_FRAME);
  if (n <= 0)
    return;
  tern_pitch_push(s->pitch, pcm, n);
  if (++s->frames % REPORT_FRAMES)
    return;
  double hz = tern_pitch_detect_latest(s->pitch);
  if (hz > 0 && tern_dc_is_open(s->dc)) {
    char text[32];
    int m = snprintf(text, sizeof text, "%.2f", hz);
    tern_dc_send(s->dc, (const uint8_t *)text, (size_t)m, false);
  }
}

static const struct tern_track_ops track_ops = {.rtp = on_rtp};

static void free_session(struct session *s) {
  if (s->dec)
    tern_opus_dec_destroy(s->dec);
  if (s->pitch)
    tern_pitch_destroy(s->pitch);
  free(s);
}

static int on_open(struct tern_conn *c, void *app) {
  (void)app;
  struct session *s = calloc(1, sizeof *s);
  if (!s)
    return -1;
  s->conn = c;
  struct tern_peer *p = tern_conn_peer(c);
  struct tern_pitch_config pc = {.sample_rate = TERN_OPUS_RATE, .window = 4096};
  struct tern_track_init init = {.kind = TERN_TRACK_AUDIO, .dir = TERN_DIR_RECVONLY};
  struct tern_dc_init dci = {.label = "frequency", .protocol = "", .ordered = true,
                             .max_retransmits = -1, .max_packet_life_time = -1, .id = -1};
  if (!(s->dec = tern_opus_dec_create(1)) || !(s->pitch = tern_pitch_create(&pc)) ||
      !tern_peer_add_track(p, &init, &track_ops, s) ||
      !(s->dc = tern_peer_create_datachannel(p, &dci, NULL, NULL))) {
    free_session(s);
    return -1;
  }
  tern_conn_set_data(c, s);
  return 0;
}

static void on_close(struct tern_conn *c, void *app) {
  (void)app;
  struct session *s = tern_conn_data(c);
  tern_conn_set_data(c, NULL);
  if (s)
    free_session(s);
}

static const struct tern_conn_app pitch_detector = {
    .name = "pitch-detector", .open = on_open, .close = on_close};

struct tern_conns *tern_app_pitch_detector_mount(const struct tern_conns_env *env) {
  return tern_conns_mount(env, "/pitch-detector", &pitch_detector, NULL);
}
