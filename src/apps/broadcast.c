/* broadcaster / viewer: one broadcaster's audio and video go to every
 * viewer. The newest broadcaster is the one viewers get (the seed's
 * "newBroadcast" replaced every viewer's tracks); the switch keeps each
 * viewer's outgoing streams continuous (track.c rewrites sequence numbers
 * and timestamps), and a keyframe is asked of the broadcaster whenever a
 * viewer starts receiving or asks for one itself, at most once per
 * KEYFRAME_INTERVAL_MS so a crowd of joining viewers is one PLI, not many. */
#include <stdlib.h>

#include "apps/apps.h"
#include "core/log.h"
#include "peer/peer.h"

#define KEYFRAME_INTERVAL_MS 300

struct viewer;

struct broadcast {
  int refs; /* the two mounts share it */
  uv_loop_t *loop;
  struct tern_conn *current; /* the broadcaster viewers get */
  struct tern_track *audio_in, *video_in;
  struct viewer *viewers;
  uint64_t last_keyframe_request_ms;
};

struct broadcaster {
  struct broadcast *b;
  struct tern_conn *conn;
  struct tern_track *audio, *video;
};

struct viewer {
  struct viewer *prev, *next;
  struct broadcast *b;
  struct tern_conn *conn;
  struct tern_track *audio, *video;
  bool video_flowing; /* has been sent video from the current broadcaster */
};

static void request_keyframe(struct broadcast *b) {
  uint64_t now = uv_now(b->loop);
  if (!b->video_in || now - b->last_keyframe_request_ms < KEYFRAME_INTERVAL_MS)
    return;
  if (tern_track_request_keyframe(b->video_in) == 0)
    b->last_keyframe_request_ms = now;
}

static void on_broadcast_rtp(struct tern_track *t, void *user, const uint8_t *pkt, size_t len) {
  struct broadcaster *bc = user;
  struct broadcast *b = bc->b;
  if (b->current != bc->conn)
    return; /* an older broadcaster: nobody watches it any more */
  bool video = t == bc->video;
  bool need_keyframe = false;
  for (struct viewer *v = b->viewers; v; v = v->next) {
    struct tern_track *out = video ? v->video : v->audio;
    if (tern_track_send_rtp(out, pkt, len) == 0 && video && !v->video_flowing) {
      v->video_flowing = true;
      need_keyframe = true; /* joined mid-stream: give it a picture now */
    }
  }
  if (need_keyframe)
    request_keyframe(b);
}

static const struct tern_track_ops broadcast_in_ops = {.rtp = on_broadcast_rtp};

static int broadcaster_open(struct tern_conn *c, void *app) {
  struct broadcast *b = app;
  struct broadcaster *bc = calloc(1, sizeof *bc);
  if (!bc)
    return -1;
  bc->b = b;
  bc->conn = c;
  struct tern_peer *p = tern_conn_peer(c);
  struct tern_track_init audio = {.kind = TERN_TRACK_AUDIO, .dir = TERN_DIR_RECVONLY};
  struct tern_track_init video = {.kind = TERN_TRACK_VIDEO, .dir = TERN_DIR_RECVONLY};
  bc->audio = tern_peer_add_track(p, &audio, &broadcast_in_ops, bc);
  bc->video = tern_peer_add_track(p, &video, &broadcast_in_ops, bc);
  tern_conn_set_data(c, bc);
  if (!bc->audio || !bc->video)
    return -1;
  b->current = c;
  b->audio_in = bc->audio;
  b->video_in = bc->video;
  b->last_keyframe_request_ms = 0;
  int n = 0;
  for (struct viewer *v = b->viewers; v; v = v->next, n++)
    v->video_flowing = false;
  tern_log_info(tern_conn_id(c), "broadcaster: now the broadcast (%d viewer(s) switched)", n);
  return 0;
}

static void broadcaster_close(struct tern_conn *c, void *app) {
  struct broadcast *b = app;
  free(tern_conn_data(c));
  tern_conn_set_data(c, NULL);
  if (b->current == c) {
    b->current = NULL;
    b->audio_in = b->video_in = NULL;
  }
}

static void on_viewer_keyframe_request(struct tern_track *t, void *user) {
  struct viewer *v = user;
  (void)t;
  request_keyframe(v->b);
}

static const struct tern_track_ops viewer_out_ops = {.keyframe_request =
                                                         on_viewer_keyframe_request};

static int viewer_open(struct tern_conn *c, void *app) {
  struct broadcast *b = app;
  struct viewer *v = calloc(1, sizeof *v);
  if (!v)
    return -1;
  v->b = b;
  v->conn = c;
  tern_conn_set_data(c, v);
  struct tern_peer *p = tern_conn_peer(c);
  struct tern_track_init audio = {.kind = TERN_TRACK_AUDIO, .dir = TERN_DIR_SENDONLY};
  struct tern_track_init video = {.kind = TERN_TRACK_VIDEO, .dir = TERN_DIR_SENDONLY};
  v->audio = tern_peer_add_track(p, &audio, &viewer_out_ops, v);
  v->video = tern_peer_add_track(p, &video, &viewer_out_ops, v);
  v->next = b->viewers;
  if (b->viewers)
    b->viewers->prev = v;
  b->viewers = v;
  return v->audio && v->video ? 0 : -1;
}

static void viewer_close(struct tern_conn *c, void *app) {
  struct broadcast *b = app;
  struct viewer *v = tern_conn_data(c);
  if (!v)
    return;
  if (v->prev)
    v->prev->next = v->next;
  else
    b->viewers = v->next;
  if (v->next)
    v->next->prev = v->prev;
  free(v);
  tern_conn_set_data(c, NULL);
}

static void broadcast_unref(void *app) {
  struct broadcast *b = app;
  if (--b->refs == 0)
    free(b);
}

static const struct tern_conn_app broadcaster_app = {.name = "broadcaster",
                                                     .open = broadcaster_open,
                                                     .close = broadcaster_close,
                                                     .destroy = broadcast_unref};
static const struct tern_conn_app viewer_app = {
    .name = "viewer", .open = viewer_open, .close = viewer_close, .destroy = broadcast_unref};

int tern_app_broadcast_mount(const struct tern_conns_env *env, struct tern_conns **broadcaster,
                             struct tern_conns **viewer) {
  struct broadcast *b = calloc(1, sizeof *b);
  if (!b)
    return -1;
  b->loop = env->loop;
  *broadcaster = tern_conns_mount(env, "/broadcaster", &broadcaster_app, b);
  if (!*broadcaster) {
    free(b);
    return -1;
  }
  b->refs = 1;
  *viewer = tern_conns_mount(env, "/viewer", &viewer_app, b);
  if (!*viewer)
    return -1; /* the broadcaster mount holds b; it frees it at destroy */
  b->refs = 2;
  return 0;
}
