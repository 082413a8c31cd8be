/* compositing — CPU per composited 640×480 frame for the video-compositing
 * example: decode (libvpx) + draw (cairo, overlay) + encode (libvpx
 * realtime), on one thread, timed with the thread's CPU clock.
 *
 * The input is what a browser sends: a moving 640×480 picture encoded at
 * 800 kbit/s by the same VP8 wrapper. Usage: build/bench-compositing [frames]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "media/compositor.h"
#include "media/vp8.h"

#define W 640
#define H 480

static double cpu_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A camera-like frame: a gradient that moves, with a moving square. */
static void fill_frame(uint8_t *y, uint8_t *u, uint8_t *v, int n) {
  for (int r = 0; r < H; r++)
    for (int c = 0; c < W; c++) {
      int in_square = abs(c - (100 + 4 * n) % W) < 60 && abs(r - 240) < 60;
      y[r * W + c] = in_square ? 235 : (uint8_t)((r + c + 3 * n) & 0xff);
    }
  for (int r = 0; r < H / 2; r++)
    for (int c = 0; c < W / 2; c++) {
      u[r * (W / 2) + c] = (uint8_t)(128 + ((c + n) & 31) - 16);
      v[r * (W / 2) + c] = (uint8_t)(128 + ((r - n) & 31) - 16);
    }
}

int main(int argc, char **argv) {
  int frames = argc > 1 ? atoi(argv[1]) : 300;
  static uint8_t y[W * H], u[W * H / 4], v[W * H / 4];
  static uint8_t pkt[512 * 1024], out[512 * 1024];
  struct tern_vp8_enc_config cam_cfg = {.width = W, .height = H, .fps = 30, .bitrate_kbps = 800};
  struct tern_vp8_enc_config srv_cfg = cam_cfg;
  struct tern_vp8_enc *camera = tern_vp8_enc_create(&cam_cfg);
  struct tern_vp8_enc *enc = tern_vp8_enc_create(&srv_cfg);
  struct tern_vp8_dec *dec = tern_vp8_dec_create();
  struct tern_compositor *comp = tern_compositor_create(W, H);
  if (!camera || !enc || !dec || !comp || frames <= 0) {
    fprintf(stderr, "bench-compositing: setup failed\n");
    return 1;
  }
  double t_dec = 0, t_draw = 0, t_enc = 0;
  for (int n = 0; n < frames; n++) {
    bool key;
    fill_frame(y, u, v, n);
    struct tern_i420 in = {y, u, v, W, W / 2, W / 2, W, H};
    int len = tern_vp8_encode(camera, &in, (uint64_t)n, pkt, sizeof pkt, &key);
    if (len <= 0)
      continue;
    struct tern_i420 pic, canvas;
    double t0 = cpu_ms();
    int got = tern_vp8_decode(dec, pkt, (size_t)len, &pic);
    double t1 = cpu_ms();
    if (got == 1)
      tern_compositor_set_input(comp, &pic);
    tern_compositor_draw(comp, n / 30.0, &canvas);
    double t2 = cpu_ms();
    tern_vp8_encode(enc, &canvas, (uint64_t)n, out, sizeof out, &key);
    double t3 = cpu_ms();
    t_dec += t1 - t0;
    t_draw += t2 - t1;
    t_enc += t3 - t2;
  }
  double total = (t_dec + t_draw + t_enc) / frames;
  printf("compositing %d frames of 640x480: decode %.2f ms, draw %.2f ms, encode %.2f ms, "
         "total %.2f ms per frame -> %.1f sessions per core at 30 fps\n",
         frames, t_dec / frames, t_draw / frames, t_enc / frames, total, 1000.0 / (30 * total));
  tern_vp8_enc_destroy(camera);
  tern_vp8_enc_destroy(enc);
  tern_vp8_dec_destroy(dec);
  tern_compositor_destroy(comp);
  return 0;
}
