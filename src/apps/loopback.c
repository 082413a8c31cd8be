/* audio-video-loopback: the server offers one audio and one video
 * transceiver, sendrecv, and sends back whatever it receives on each — the
 * seed did this with replaceTrack(receiver.track). RTP is forwarded as is
 * (sequence numbers and timestamps are the browser's own, so its jitter
 * buffer and NACKs work end to end), and keyframe requests for the echoed
 * video go back to the browser as PLI on the stream it sends, so the picture
 * recovers after loss. */
#include "apps/apps.h"
#include "core/log.h"
#include "peer/peer.h"

static void on_rtp(struct tern_track *t, void *user, const uint8_t *pkt, size_t len) {
  (void)user;
  tern_track_send_rtp(t, pkt, len);
}

static void on_keyframe_request(struct tern_track *t, void *user) {
  (void)user;
  tern_track_request_keyframe(t);
}

static const struct tern_track_ops echo_ops = {.rtp = on_rtp,
                                               .keyframe_request = on_keyframe_request};

static int on_open(struct tern_conn *c, void *app) {
  (void)app;
  struct tern_peer *p = tern_conn_peer(c);
  struct tern_track_init audio = {.kind = TERN_TRACK_AUDIO, .dir = TERN_DIR_SENDRECV};
  struct tern_track_init video = {.kind = TERN_TRACK_VIDEO, .dir = TERN_DIR_SENDRECV};
  if (!tern_peer_add_track(p, &audio, &echo_ops, NULL) ||
      !tern_peer_add_track(p, &video, &echo_ops, NULL))
    return -1;
  return 0;
}

static const struct tern_conn_app loopback = {.name = "audio-video-loopback", .open = on_open};

struct tern_conns *tern_app_loopback_mount(const struct tern_conns_env *env) {
  return tern_conns_mount(env, "/audio-video-loopback", &loopback, NULL);
}
