/* record-audio-video-stream: the server offers an audio and a video
 * transceiver, recvonly, and writes what the browser sends to
 * RECORDINGS_DIR/<connection-id>.webm without re-encoding (media/recorder.h).
 * VP8 RTP is reassembled into frames (rtp/vp8_pack.h); Opus payloads go in
 * as they are. A key frame is asked for (PLI) as soon as video arrives —
 * the file starts at one — and again whenever the assembler lost a frame,
 * at most once per KEYFRAME_INTERVAL_MS. Closing the connection (DELETE,
 * ICE timeout, server shutdown: tern_conns_destroy closes every connection)
 * finalizes the file in the close hook.
 *
 * Finished recordings are served by GET /record-audio-video-stream/
 * recordings/<id>.webm: only names the recorder itself makes, only from
 * RECORDINGS_DIR, never a file still being written (409). The page builds
 * that link from its connection id once the connection is closed. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apps/apps.h"
#include "core/log.h"
#include "http/server.h"
#include "media/recorder.h"
#include "peer/peer.h"
#include "rtp/rtp.h"
#include "rtp/vp8_pack.h"

#define PREFIX "/record-audio-video-stream"
#define KEYFRAME_INTERVAL_MS 1000
/* The download reads the file into memory (the HTTP layer has no file
 * response for routes); bigger recordings stay on disk, a 413 says where. */
#define DOWNLOAD_MAX ((off_t)128 << 20)

struct app {
  char dir[PATH_MAX];
  struct session *sessions; /* live recordings, for the 409 check */
};

struct session {
  struct session *next, **pprev;
  struct tern_conn *conn;
  struct tern_track *video;
  struct tern_recorder *rec;
  struct tern_vp8_asm *vasm;
  uint32_t video_ssrc;
  bool have_video_ssrc, pli_sent;
  uint64_t last_pli_ms;
  char file[TERN_RECORDER_NAME_MAX + sizeof TERN_RECORDER_EXT];
};

static uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void on_audio(struct tern_track *t, void *user, const uint8_t *pkt, size_t len) {
  struct session *s = user;
  struct tern_rtp rtp;
  (void)t;
  if (!s->rec || tern_rtp_parse(pkt, len, &rtp) < 0 || rtp.payload_len == 0)
    return;
  tern_recorder_audio(s->rec, rtp.timestamp, rtp.payload, rtp.payload_len, now_us());
}

static void maybe_request_keyframe(struct session *s, uint64_t now) {
  if (tern_recorder_failed(s->rec) ||
      !(tern_vp8_asm_need_keyframe(s->vasm) || tern_recorder_wants_keyframe(s->rec)))
    return;
  uint64_t ms = now / 1000;
  if (s->pli_sent && ms - s->last_pli_ms < KEYFRAME_INTERVAL_MS)
    return;
  if (tern_track_request_keyframe(s->video) == 0) {
    s->pli_sent = true;
    s->last_pli_ms = ms;
  }
}

static void on_video(struct tern_track *t, void *user, const uint8_t *pkt, size_t len) {
  struct session *s = user;
  struct tern_rtp rtp;
  (void)t;
  if (!s->rec || tern_rtp_parse(pkt, len, &rtp) < 0 || rtp.payload_len == 0)
    return;
  if (s->have_video_ssrc && rtp.ssrc != s->video_ssrc)
    tern_vp8_asm_reset(s->vasm); /* a new stream: its sequence numbers start anew */
  s->have_video_ssrc = true;
  s->video_ssrc = rtp.ssrc;
  uint64_t now = now_us();
  tern_vp8_asm_push(s->vasm, rtp.payload, rtp.payload_len, rtp.seq, rtp.timestamp, rtp.marker);
  struct tern_vp8_frame f;
  while (tern_vp8_asm_pop(s->vasm, &f) == 1)
    tern_recorder_video(s->rec, f.timestamp, f.data, f.len, f.keyframe, now);
  maybe_request_keyframe(s, now);
}

static const struct tern_track_ops audio_ops = {.rtp = on_audio};
static const struct tern_track_ops video_ops = {.rtp = on_video};

static void free_session(struct session *s) {
  if (s->pprev) {
    *s->pprev = s->next;
    if (s->next)
      s->next->pprev = s->pprev;
  }
  tern_recorder_close(s->rec); /* finalizes: trailer, duration, cues */
  tern_vp8_asm_destroy(s->vasm);
  free(s);
}

static int on_open(struct tern_conn *c, void *user) {
  struct app *app = user;
  struct session *s = calloc(1, sizeof *s);
  if (!s)
    return -1;
  s->conn = c;
  const char *id = tern_conn_id(c);
  int err = 0;
  struct tern_peer *p = tern_conn_peer(c);
  struct tern_track_init audio = {.kind = TERN_TRACK_AUDIO, .dir = TERN_DIR_RECVONLY};
  struct tern_track_init video = {.kind = TERN_TRACK_VIDEO, .dir = TERN_DIR_RECVONLY};
  if (!(s->vasm = tern_vp8_asm_create(0, 0, 0)))
    goto fail;
  if (!(s->rec = tern_recorder_open(app->dir, id, &err))) {
    tern_log_error(id, "cannot record to %s: %s", app->dir, strerror(-err));
    goto fail;
  }
  snprintf(s->file, sizeof s->file, "%s%s", id, TERN_RECORDER_EXT);
  if (!tern_peer_add_track(p, &audio, &audio_ops, s) ||
      !(s->video = tern_peer_add_track(p, &video, &video_ops, s)))
    goto fail;
  s->next = app->sessions;
  if (s->next)
    s->next->pprev = &s->next;
  s->pprev = &app->sessions;
  app->sessions = s;
  tern_conn_set_data(c, s);
  return 0;
fail:
  free_session(s);
  return -1;
}

static void on_close(struct tern_conn *c, void *user) {
  (void)user;
  struct session *s = tern_conn_data(c);
  tern_conn_set_data(c, NULL);
  if (s)
    free_session(s);
}

static void on_destroy(void *user) { free(user); }

static void get_recording(struct tern_http_req *req, void *user) {
  struct app *app = user;
  const char *name = tern_http_param(req, "name");
  if (!tern_recorder_file_ok(name)) {
    tern_http_respond_text(req, 404, "not found");
    return;
  }
  for (struct session *s = app->sessions; s; s = s->next)
    if (!strcmp(s->file, name)) {
      tern_http_respond_text(req, 409, "still recording: close the connection first");
      return;
    }
  int dfd = open(app->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int fd = dfd < 0 ? -1 : openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd >= 0)
    close(dfd);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    if (fd >= 0)
      close(fd);
    tern_http_respond_text(req, 404, "not found");
    return;
  }
  if (st.st_size > DOWNLOAD_MAX) {
    close(fd);
    tern_http_respond_text(req, 413, "too large to download here (%lld bytes): %s/%s",
                           (long long)st.st_size, app->dir, name);
    return;
  }
  size_t size = (size_t)st.st_size, got = 0;
  uint8_t *buf = malloc(size ? size : 1);
  while (buf && got < size) {
    ssize_t n = read(fd, buf + got, size - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  close(fd);
  if (!buf || got < size) {
    free(buf);
    tern_http_respond_text(req, 500, "cannot read the recording");
    return;
  }
  char disp[128];
  snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", name);
  tern_http_resp_header(req, "Content-Disposition", disp);
  tern_http_resp_header(req, "Cache-Control", "no-store");
  tern_http_resp_header(req, "X-Content-Type-Options", "nosniff");
  tern_http_respond(req, 200, "video/webm", buf, size);
  free(buf);
}

static const struct tern_conn_app record = {
    .name = "record-audio-video-stream", .open = on_open, .close = on_close,
    .destroy = on_destroy};

struct tern_conns *tern_app_record_mount(const struct tern_conns_env *env,
                                         const char *recordings_dir) {
  struct app *app = calloc(1, sizeof *app);
  if (!app || !recordings_dir || !*recordings_dir ||
      (size_t)snprintf(app->dir, sizeof app->dir, "%s", recordings_dir) >= sizeof app->dir) {
    free(app);
    return NULL;
  }
  struct tern_conns *m = tern_conns_mount(env, PREFIX, &record, app);
  if (!m) {
    free(app);
    return NULL;
  }
  /* The server destroys the HTTP server (and this route) before the apps,
   * so app, freed by on_destroy, outlives every request. */
  if (tern_http_route(env->http, "GET", PREFIX "/recordings/:name", get_recording, app) < 0) {
    tern_conns_destroy(m); /* frees app */
    return NULL;
  }
  return m;
}
