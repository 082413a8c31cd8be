/* test_vp8 — libvpx wrapper: a moving synthetic 640×480 sequence survives
 * encode → RTP packetize → assemble → decode with PSNR > 30 dB, key frames
 * come first and on request, the bitrate setting is honoured roughly, and
 * bad input is refused. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "media/vp8.h"
#include "rtp/vp8_pack.h"
#include "test.h"

#define W 640
#define H 480
#define FPS 30

static uint8_t ybuf[W * H], ubuf[W * H / 4], vbuf[W * H / 4];

/* Smooth gradients plus a bright square moving 4 px per frame: motion and
 * edges, but natural enough that 800 kbps codes it well. */
static struct tern_i420 synth(int n) {
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      int v = 40 + (x + 2 * n) * 120 / W + y * 60 / H;
      if (x >= 100 + 4 * n && x < 180 + 4 * n && y >= 150 && y < 230)
        v = 220;
      ybuf[y * W + x] = (uint8_t)v;
    }
  for (int y = 0; y < H / 2; y++)
    for (int x = 0; x < W / 2; x++) {
      ubuf[y * (W / 2) + x] = (uint8_t)(100 + x * 60 / (W / 2));
      vbuf[y * (W / 2) + x] = (uint8_t)(160 - y * 60 / (H / 2));
    }
  return (struct tern_i420){.y = ybuf, .u = ubuf, .v = vbuf, .stride_y = W,
                            .stride_u = W / 2, .stride_v = W / 2, .width = W, .height = H};
}

static double psnr_y(const struct tern_i420 *a, const struct tern_i420 *b) {
  double se = 0;
  for (int y = 0; y < a->height; y++)
    for (int x = 0; x < a->width; x++) {
      int d = a->y[y * a->stride_y + x] - b->y[y * b->stride_y + x];
      se += d * d;
    }
  double mse = se / (a->width * a->height);
  return mse == 0 ? 99.0 : 10 * log10(255.0 * 255.0 / mse);
}

static struct tern_vp8_enc *make_enc(unsigned kbps) {
  struct tern_vp8_enc_config cfg = {.width = W, .height = H, .fps = FPS, .bitrate_kbps = kbps};
  return tern_vp8_enc_create(&cfg);
}

static uint8_t frame_buf[512 * 1024];

static void test_round_trip_through_rtp(void) {
  struct tern_vp8_enc *e = make_enc(800);
  struct tern_vp8_dec *d = tern_vp8_dec_create();
  struct tern_vp8_asm *a = tern_vp8_asm_create(0, 0, 0);
  struct tern_vp8_packetizer pk;
  REQUIRE(e && d && a);
  tern_vp8_packetizer_init(&pk, 1234);
  uint16_t seq = 100;
  int decoded = 0;
  double min_psnr = 99;
  for (int n = 0; n < 60; n++) {
    struct tern_i420 in = synth(n);
    bool key = false;
    int len = tern_vp8_encode(e, &in, (uint64_t)n, frame_buf, sizeof frame_buf, &key);
    REQUIRE(len > 0);
    if (n == 0)
      CHECK(key);
    if (n == 10)
      CHECK(!key); /* no key frames without a reason */
    struct tern_vp8_pack_iter it;
    REQUIRE(tern_vp8_pack_begin(&pk, &it, frame_buf, (size_t)len, 1100, false) == 0);
    uint8_t pl[1200];
    bool marker;
    int m;
    while ((m = tern_vp8_pack_next(&it, pl, sizeof pl, &marker)) > 0)
      REQUIRE(tern_vp8_asm_push(a, pl, (size_t)m, seq++, (uint32_t)n * 3000, marker) == 0);
    struct tern_vp8_frame f;
    while (tern_vp8_asm_pop(a, &f) == 1) {
      struct tern_i420 out;
      CHECK_EQ_INT(f.keyframe, key);
      int r = tern_vp8_decode(d, f.data, f.len, &out);
      CHECK_EQ_INT(r, 1);
      if (r != 1)
        continue;
      CHECK_EQ_INT(out.width, W);
      CHECK_EQ_INT(out.height, H);
      double p = psnr_y(&in, &out);
      if (p < min_psnr)
        min_psnr = p;
      decoded++;
    }
  }
  CHECK_EQ_INT(decoded, 60);
  printf("  min PSNR over 60 frames at 800 kbps: %.1f dB\n", min_psnr);
  CHECK(min_psnr > 30.0);
  tern_vp8_asm_destroy(a);
  tern_vp8_dec_destroy(d);
  tern_vp8_enc_destroy(e);
}

static void test_keyframe_on_request(void) {
  struct tern_vp8_enc *e = make_enc(800);
  REQUIRE(e);
  for (int n = 0; n < 8; n++) {
    struct tern_i420 in = synth(n);
    bool key = true;
    if (n == 5)
      tern_vp8_enc_request_keyframe(e);
    int len = tern_vp8_encode(e, &in, (uint64_t)n, frame_buf, sizeof frame_buf, &key);
    REQUIRE(len > 0);
    CHECK_EQ_INT(key, n == 0 || n == 5);
    /* The flag agrees with the bitstream (what receivers look at). */
    CHECK_EQ_INT((frame_buf[0] & 1) == 0, key);
  }
  tern_vp8_enc_destroy(e);
}

/* Average frame size follows the target within a loose factor. */
static size_t bytes_at(unsigned kbps, int frames) {
  struct tern_vp8_enc *e = make_enc(kbps);
  size_t total = 0;
  CHECK(e);
  if (!e)
    return 0;
  for (int n = 0; n < frames; n++) {
    struct tern_i420 in = synth(n);
    int len = tern_vp8_encode(e, &in, (uint64_t)n, frame_buf, sizeof frame_buf, NULL);
    CHECK(len >= 0);
    if (len < 0)
      break;
    if (n >= 10)
      total += (size_t)len; /* past the key frame and rate-control warm-up */
  }
  tern_vp8_enc_destroy(e);
  return total;
}

static void test_bitrate(void) {
  size_t lo = bytes_at(200, 60), hi = bytes_at(1500, 60);
  double lo_kbps = lo * 8.0 / 1000 / (50.0 / FPS), hi_kbps = hi * 8.0 / 1000 / (50.0 / FPS);
  printf("  target 200 kbps → %.0f kbps, target 1500 kbps → %.0f kbps\n", lo_kbps, hi_kbps);
  CHECK(lo_kbps < 200 * 1.6);
  CHECK(hi > lo);

  struct tern_vp8_enc *e = make_enc(800);
  REQUIRE(e);
  CHECK_EQ_INT(tern_vp8_enc_set_bitrate(e, 10), -EINVAL);
  CHECK_EQ_INT(tern_vp8_enc_set_bitrate(e, 30000), -EINVAL);
  CHECK_EQ_INT(tern_vp8_enc_set_bitrate(e, 300), 0);
  CHECK_EQ_INT(tern_vp8_enc_bitrate(e), 300);
  tern_vp8_enc_destroy(e);
}

static void test_bad_input(void) {
  struct tern_vp8_enc_config bad = {.width = 641, .height = 480, .fps = 30, .bitrate_kbps = 800};
  CHECK(tern_vp8_enc_create(&bad) == NULL);
  bad.width = 640;
  bad.fps = 0;
  CHECK(tern_vp8_enc_create(&bad) == NULL);

  struct tern_vp8_enc *e = make_enc(800);
  REQUIRE(e);
  struct tern_i420 in = synth(0);
  in.width = 320;
  CHECK_EQ_INT(tern_vp8_encode(e, &in, 0, frame_buf, sizeof frame_buf, NULL), -EINVAL);
  in.width = W;
  /* Too small an output buffer: refused, and the next frame is a key frame. */
  CHECK_EQ_INT(tern_vp8_encode(e, &in, 0, frame_buf, 16, NULL), -ENOSPC);
  bool key = false;
  CHECK(tern_vp8_encode(e, &in, 1, frame_buf, sizeof frame_buf, &key) > 0);
  CHECK(key);
  tern_vp8_enc_destroy(e);

  struct tern_vp8_dec *d = tern_vp8_dec_create();
  struct tern_i420 out;
  REQUIRE(d);
  uint8_t junk[64];
  memset(junk, 0x5a, sizeof junk);
  junk[0] = 0x10; /* key-frame tag bit clear, but no start code */
  CHECK_EQ_INT(tern_vp8_decode(d, junk, sizeof junk, &out), -EPROTO);
  CHECK_EQ_INT(tern_vp8_decode(d, junk, 0, &out), -EPROTO);
  tern_vp8_dec_destroy(d);
}

int main(void) {
  RUN(test_round_trip_through_rtp);
  RUN(test_keyframe_on_request);
  RUN(test_bitrate);
  RUN(test_bad_input);
  return TEST_RESULT();
}
