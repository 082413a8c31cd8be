/* recorder: WebM files from Opus packets and VP8 frames with RTP timestamps
 * (including a 32-bit wrap), read back with libavformat and ffprobe. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavformat/avformat.h>
#include <vpx/vp8cx.h>
#include <vpx/vpx_encoder.h>

#include "media/opus.h"
#include "media/recorder.h"
#include "media/tone.h"
#include "test.h"

#define W 320
#define H 240
#define FPS 30
#define BASE_US 1000000000ull

/* A VP8 encoder making real frames of a moving gradient. */
struct venc {
  vpx_codec_ctx_t c;
  vpx_image_t img;
  uint8_t buf[256 * 1024];
  size_t len;
  bool key;
  int n;
};

static int venc_init(struct venc *v) {
  vpx_codec_enc_cfg_t cfg;
  if (vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &cfg, 0))
    return -1;
  cfg.g_w = W, cfg.g_h = H;
  cfg.g_timebase = (vpx_rational_t){1, FPS};
  cfg.rc_target_bitrate = 300;
  cfg.g_lag_in_frames = 0;
  cfg.kf_max_dist = 1000;
  if (vpx_codec_enc_init(&v->c, vpx_codec_vp8_cx(), &cfg, 0))
    return -1;
  vpx_codec_control(&v->c, VP8E_SET_CPUUSED, 16);
  if (!vpx_img_alloc(&v->img, VPX_IMG_FMT_I420, W, H, 16)) {
    vpx_codec_destroy(&v->c);
    return -1;
  }
  v->n = 0;
  return 0;
}

static void venc_free(struct venc *v) {
  vpx_img_free(&v->img);
  vpx_codec_destroy(&v->c);
}

static int venc_next(struct venc *v, bool force_key) {
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      v->img.planes[0][y * v->img.stride[0] + x] = (uint8_t)(x + y + 4 * v->n);
  for (int p = 1; p < 3; p++)
    for (int y = 0; y < H / 2; y++)
      memset(v->img.planes[p] + y * v->img.stride[p], 128 + (p == 1 ? v->n : -v->n) % 64,
             W / 2);
  if (vpx_codec_encode(&v->c, &v->img, v->n, 1, force_key ? VPX_EFLAG_FORCE_KF : 0,
                       VPX_DL_REALTIME))
    return -1;
  v->n++;
  v->len = 0;
  const vpx_codec_cx_pkt_t *pkt;
  vpx_codec_iter_t it = NULL;
  while ((pkt = vpx_codec_get_cx_data(&v->c, &it))) {
    if (pkt->kind != VPX_CODEC_CX_FRAME_PKT || v->len + pkt->data.frame.sz > sizeof v->buf)
      continue;
    memcpy(v->buf + v->len, pkt->data.frame.buf, pkt->data.frame.sz);
    v->len += pkt->data.frame.sz;
    v->key = pkt->data.frame.flags & VPX_FRAME_IS_KEY;
  }
  return v->len ? 0 : -1;
}

static char dir[] = "/tmp/tern-rec-XXXXXX";

static void test_names(void) {
  CHECK(tern_recorder_name_ok("0f8c-a1_B"));
  CHECK(!tern_recorder_name_ok(""));
  CHECK(!tern_recorder_name_ok(".."));
  CHECK(!tern_recorder_name_ok("a/b"));
  CHECK(!tern_recorder_name_ok("a.b"));
  CHECK(tern_recorder_file_ok("abc.webm"));
  CHECK(!tern_recorder_file_ok(".webm"));
  CHECK(!tern_recorder_file_ok("../abc.webm"));
  CHECK(!tern_recorder_file_ok("abc.webm.txt"));
  CHECK(!tern_recorder_file_ok("abc"));
  char longname[80];
  memset(longname, 'a', 65);
  longname[65] = '\0';
  CHECK(!tern_recorder_name_ok(longname));

  int err = 0;
  CHECK(tern_recorder_open(dir, "../escape", &err) == NULL);
  CHECK_EQ_INT(err, -EINVAL);
  /* O_EXCL: an existing file or a planted symlink is never written. */
  struct tern_recorder *r = tern_recorder_open(dir, "dup", &err);
  REQUIRE(r);
  CHECK(tern_recorder_open(dir, "dup", &err) == NULL);
  CHECK_EQ_INT(err, -EEXIST);
  CHECK_EQ_INT(tern_recorder_close(r), -ENODATA); /* nothing recorded: removed */
  char p[256];
  snprintf(p, sizeof p, "%s/dup.webm", dir);
  CHECK(access(p, F_OK) != 0);
  snprintf(p, sizeof p, "%s/link.webm", dir);
  REQUIRE(symlink("/tmp/tern-rec-target-never", p) == 0);
  CHECK(tern_recorder_open(dir, "link", &err) == NULL);
  CHECK_EQ_INT(err, -EEXIST);
  CHECK(access("/tmp/tern-rec-target-never", F_OK) != 0);
  unlink(p);
}

static void test_record_and_read_back(void) {
  struct venc v;
  REQUIRE(venc_init(&v) == 0);
  struct tern_opus_enc *enc = tern_opus_enc_create(1, 32000, 5);
  REQUIRE(enc);
  struct tern_tone tone;
  REQUIRE(tern_tone_init(&tone, 48000, 1, 440, 0.3) == 0);
  int err = 0;
  struct tern_recorder *r = tern_recorder_open(dir, "call-1", &err);
  REQUIRE(r);
  CHECK(tern_recorder_wants_keyframe(r));

  /* 3 s; both RTP clocks wrap past 2^32 in the middle. Video frames 0–2
   * come before any key frame and are dropped; frame 3 is forced key and
   * starts the file at 100 ms, so audio before it is dropped too. */
  uint32_t vts0 = 0xffffffffu - 90000, ats0 = 0xffffffffu - 2 * 48000;
  int audio_dup = 0;
  for (int ms = 0, vi = 0, ai = 0; ms < 3000; ms++) {
    uint64_t now = BASE_US + (uint64_t)ms * 1000;
    if (ms * FPS >= vi * 1000) {
      REQUIRE(venc_next(&v, vi == 3) == 0);
      bool key = vi == 0 ? false : v.key; /* frame 0: the assembler lost its start */
      CHECK_EQ_INT(tern_recorder_video(r, vts0 + (uint32_t)vi * (90000 / FPS), v.buf, v.len,
                                       key, now),
                   0);
      vi++;
    }
    if (ms % 20 == 0) {
      int16_t pcm[960];
      uint8_t pkt[1275];
      tern_tone_fill(&tone, pcm, 960);
      int n = tern_opus_encode(enc, pcm, 960, pkt, sizeof pkt);
      REQUIRE(n > 0);
      uint32_t ts = ats0 + (uint32_t)ai * 960;
      CHECK_EQ_INT(tern_recorder_audio(r, ts, pkt, (size_t)n, now), 0);
      if (ai == 70) { /* a duplicate is dropped */
        CHECK_EQ_INT(tern_recorder_audio(r, ts, pkt, (size_t)n, now + 5000), 0);
        audio_dup++;
      }
      ai++;
    }
  }
  CHECK(!tern_recorder_wants_keyframe(r));
  struct tern_recorder_stats st;
  tern_recorder_get_stats(r, &st);
  CHECK(st.started);
  CHECK_EQ_INT((int)st.video_frames, 87);
  CHECK_EQ_INT((int)st.video_dropped, 3);
  CHECK_EQ_INT((int)st.audio_packets, 145);
  CHECK_EQ_INT((int)st.audio_dropped, 5 + audio_dup);
  char path[256];
  snprintf(path, sizeof path, "%s", tern_recorder_path(r));
  CHECK_EQ_INT(tern_recorder_close(r), 0);
  tern_opus_enc_destroy(enc);
  venc_free(&v);

  /* Read it back. */
  AVFormatContext *ic = NULL;
  REQUIRE(avformat_open_input(&ic, path, NULL, NULL) == 0);
  CHECK(avformat_find_stream_info(ic, NULL) >= 0);
  REQUIRE(ic->nb_streams == 2);
  int vs = -1, as = -1;
  for (unsigned i = 0; i < ic->nb_streams; i++) {
    AVCodecParameters *par = ic->streams[i]->codecpar;
    if (par->codec_id == AV_CODEC_ID_VP8) {
      vs = (int)i;
      CHECK_EQ_INT(par->width, W);
      CHECK_EQ_INT(par->height, H);
    }
    if (par->codec_id == AV_CODEC_ID_OPUS) {
      as = (int)i;
      CHECK_EQ_INT(par->sample_rate, 48000);
    }
  }
  CHECK(vs >= 0 && as >= 0);
  /* Fed: video 100..2966 ms, audio 100..3000 ms → 2.9 s from file time 0. */
  double dur = (double)ic->duration / AV_TIME_BASE;
  CHECK(dur > 2.8 && dur < 3.0);
  AVPacket *pkt = av_packet_alloc();
  REQUIRE(pkt);
  int64_t last[2] = {-1, -1};
  int count[2] = {0, 0};
  bool mono = true, first_key = false;
  while (av_read_frame(ic, pkt) >= 0) {
    int k = pkt->stream_index == vs ? 0 : 1;
    if (pkt->pts <= last[k])
      mono = false;
    if (k == 0 && count[0] == 0)
      first_key = pkt->flags & AV_PKT_FLAG_KEY;
    if (count[k] == 0)
      CHECK(pkt->pts <= 1); /* both start at file time 0 (audio on the 20 ms grid) */
    last[k] = pkt->pts;
    count[k]++;
    av_packet_unref(pkt);
  }
  CHECK(mono);
  CHECK(first_key);
  CHECK_EQ_INT(count[0], 87);
  CHECK_EQ_INT(count[1], 145);
  /* 87 frames at 33.3 ms from 0: the last at 2866 ms. */
  CHECK(last[0] >= 2860 && last[0] <= 2870);
  CHECK(last[1] == 2880);
  av_packet_free(&pkt);
  avformat_close_input(&ic);

  /* ffprobe (Debian's ffmpeg), when installed, must agree. */
  if (system("command -v ffprobe >/dev/null 2>&1") == 0) {
    char cmd[512], out[512] = "";
    snprintf(cmd, sizeof cmd,
             "ffprobe -v error -show_entries stream=codec_name:format=duration "
             "-of default=nw=1 '%s' 2>&1", path);
    FILE *f = popen(cmd, "r");
    REQUIRE(f);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    CHECK_EQ_INT(pclose(f), 0);
    CHECK(strstr(out, "codec_name=vp8"));
    CHECK(strstr(out, "codec_name=opus"));
    const char *d = strstr(out, "duration=");
    CHECK(d && atof(d + 9) > 2.8 && atof(d + 9) < 3.0);
  } else {
    printf("ffprobe not installed: skipped\n");
  }
  unlink(path);
}

/* A sender restart (timestamp jump) does not leave a long hole. */
static void test_rebase(void) {
  struct venc v;
  REQUIRE(venc_init(&v) == 0);
  int err;
  struct tern_recorder *r = tern_recorder_open(dir, "jump", &err);
  REQUIRE(r);
  uint32_t ts = 1234;
  for (int i = 0; i < 20; i++) {
    if (i == 10)
      ts += 90000u * 3600; /* an hour ahead */
    REQUIRE(venc_next(&v, i == 0) == 0);
    CHECK_EQ_INT(tern_recorder_video(r, ts, v.buf, v.len, v.key, BASE_US + i * 33333ull), 0);
    ts += 3000;
  }
  struct tern_recorder_stats st;
  tern_recorder_get_stats(r, &st);
  CHECK(st.video_last_ms >= 600 && st.video_last_ms <= 700);
  CHECK_EQ_INT(tern_recorder_close(r), 0);
  char p[256];
  snprintf(p, sizeof p, "%s/jump.webm", dir);
  unlink(p);
  venc_free(&v);
}

/* A full disk (here: the file size limit) stops the recording, once. */
static void test_write_error(void) {
  struct venc v;
  REQUIRE(venc_init(&v) == 0);
  int err;
  struct tern_recorder *r = tern_recorder_open(dir, "full", &err);
  REQUIRE(r);
  struct rlimit old, lim;
  REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
  lim = old;
  lim.rlim_cur = 40000;
  void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
  REQUIRE(setrlimit(RLIMIT_FSIZE, &lim) == 0);
  int rc = 0, i;
  for (i = 0; i < 300 && rc == 0; i++) {
    REQUIRE(venc_next(&v, true) == 0); /* key frames: big */
    uint64_t now = BASE_US + i * 33333ull;
    rc = tern_recorder_video(r, (uint32_t)i * 3000, v.buf, v.len, true, now);
    if (rc == 0) /* both streams, so the interleaver passes packets on */
      rc = tern_recorder_audio(r, (uint32_t)i * 1600, (const uint8_t *)"\xf8\xff\xfe", 3, now);
  }
  setrlimit(RLIMIT_FSIZE, &old);
  signal(SIGXFSZ, prev);
  CHECK_EQ_INT(rc, -EIO);
  CHECK(tern_recorder_failed(r));
  CHECK_EQ_INT(tern_recorder_video(r, 0, v.buf, v.len, true, BASE_US), -EIO);
  CHECK_EQ_INT(tern_recorder_audio(r, 0, (const uint8_t *)"\xf8\xff\xfe", 3, BASE_US), -EIO);
  CHECK_EQ_INT(tern_recorder_close(r), -EIO);
  char p[256];
  snprintf(p, sizeof p, "%s/full.webm", dir);
  struct stat sb;
  CHECK(stat(p, &sb) == 0 && sb.st_size <= 40000);
  unlink(p);
  venc_free(&v);
}

int main(void) {
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  RUN(test_names);
  RUN(test_record_and_read_back);
  RUN(test_rebase);
  RUN(test_write_error);
  rmdir(dir);
  return TEST_RESULT();
}
