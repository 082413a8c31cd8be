/* test_compositor — the canvas: I420↔ARGB round trip stays close, the
 * overlay changes the pixels where it is drawn and moves with time, the
 * canvas fades towards white while there is no input, and inputs of other
 * sizes are scaled to fit. */
#include <cairo.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "media/compositor.h"
#include "test.h"

/* fontconfig is in the process as cairo's dependency, but the build does not
 * link it directly: a weak reference finds it when it is there. */
extern void FcFini(void) __attribute__((weak));

#define W TERN_COMPOSITOR_WIDTH
#define H TERN_COMPOSITOR_HEIGHT

struct pic {
  uint8_t *y, *u, *v;
  struct tern_i420 img;
};

/* A colourful, smooth picture (gradients in all three planes). */
static void pic_make(struct pic *p, int w, int h) {
  int cw = (w + 1) / 2, ch = (h + 1) / 2;
  p->y = malloc((size_t)w * h);
  p->u = malloc((size_t)cw * ch);
  p->v = malloc((size_t)cw * ch);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      p->y[y * w + x] = (uint8_t)(30 + (x * 150 / w + y * 40 / h));
  for (int y = 0; y < ch; y++)
    for (int x = 0; x < cw; x++) {
      p->u[y * cw + x] = (uint8_t)(90 + x * 70 / cw);
      p->v[y * cw + x] = (uint8_t)(170 - y * 70 / ch);
    }
  p->img = (struct tern_i420){.y = p->y, .u = p->u, .v = p->v, .stride_y = w, .stride_u = cw,
                              .stride_v = cw, .width = w, .height = h};
}

static void pic_free(struct pic *p) {
  free(p->y);
  free(p->u);
  free(p->v);
}

static double mean_y(const struct tern_i420 *f) {
  double s = 0;
  for (int y = 0; y < f->height; y++)
    for (int x = 0; x < f->width; x++)
      s += f->y[y * f->stride_y + x];
  return s / (f->width * f->height);
}

static void test_round_trip(void) {
  /* Start from RGB so the YUV is inside the RGB gamut (an arbitrary YUV
   * triple is not, and clamping would lose it): then YUV→RGB→YUV must come
   * back within rounding. */
  int w = 62, h = 47, cw = 31, ch = 24; /* odd height: a half chroma row */
  uint32_t *rgb = malloc((size_t)w * h * 4);
  uint8_t *argb = malloc((size_t)w * h * 4);
  uint8_t *y0 = malloc((size_t)w * h), *u0 = malloc((size_t)cw * ch), *v0 = malloc((size_t)cw * ch);
  uint8_t *y = malloc((size_t)w * h), *u = malloc((size_t)cw * ch), *v = malloc((size_t)cw * ch);
  for (int r = 0; r < h; r++)
    for (int c = 0; c < w; c++)
      rgb[r * w + c] = 0xff000000u | (uint32_t)(c * 4) << 16 | (uint32_t)(r * 5) << 8 |
                       (uint32_t)(255 - c * 2 - r);
  tern_argb_to_i420((const uint8_t *)rgb, w * 4, w, h, y0, w, u0, cw, v0, cw);
  struct tern_i420 img = {.y = y0, .u = u0, .v = v0, .stride_y = w, .stride_u = cw,
                          .stride_v = cw, .width = w, .height = h};
  tern_i420_to_argb(&img, argb, w * 4);
  CHECK_EQ_INT(argb[3], 0xff); /* opaque (little-endian: byte 3 is alpha) */
  tern_argb_to_i420(argb, w * 4, w, h, y, w, u, cw, v, cw);
  int maxd = 0, maxrgb = 0;
  for (int i = 0; i < w * h; i++)
    maxd = abs(y[i] - y0[i]) > maxd ? abs(y[i] - y0[i]) : maxd;
  for (int i = 0; i < cw * ch; i++) {
    maxd = abs(u[i] - u0[i]) > maxd ? abs(u[i] - u0[i]) : maxd;
    maxd = abs(v[i] - v0[i]) > maxd ? abs(v[i] - v0[i]) : maxd;
  }
  /* And the RGB itself survives the trip up to chroma subsampling of a
   * smooth gradient. */
  for (int i = 0; i < w * h; i++)
    for (int sh = 0; sh <= 16; sh += 8) {
      int d = abs((int)(rgb[i] >> sh & 0xff) - (int)argb[4 * i + sh / 8]);
      maxrgb = d > maxrgb ? d : maxrgb;
    }
  printf("  I420→ARGB→I420 max error: %d; RGB→I420→RGB max error: %d\n", maxd, maxrgb);
  CHECK(maxd <= 3);
  CHECK(maxrgb <= 12);
  free(rgb);
  free(y0);
  free(u0);
  free(v0);

  /* Known colours: limited-range black and white map to 0 and 255. */
  uint8_t by = 16, bu = 128, bv = 128, wy = 235;
  struct tern_i420 k = {.y = &by, .u = &bu, .v = &bv, .stride_y = 1, .stride_u = 1,
                        .stride_v = 1, .width = 1, .height = 1};
  uint32_t px;
  tern_i420_to_argb(&k, (uint8_t *)&px, 4);
  CHECK_EQ_INT(px, 0xff000000u);
  k.y = &wy;
  tern_i420_to_argb(&k, (uint8_t *)&px, 4);
  CHECK_EQ_INT(px, 0xffffffffu);
  free(argb);
  free(y);
  free(u);
  free(v);
}

/* Counts luma pixels of out that differ from ref by more than 8 inside a
 * centred box (where the rotating text always passes) and outside it. */
static void diff_counts(const struct tern_i420 *out, const struct tern_i420 *ref, int *inside,
                        int *outside) {
  *inside = *outside = 0;
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      int d = abs(out->y[y * out->stride_y + x] - ref->y[y * ref->stride_y + x]);
      bool in = abs(x - W / 2) < 90 && abs(y - H / 2) < 90;
      if (d > 8)
        (*(in ? inside : outside))++;
    }
}

static void test_overlay(void) {
  struct tern_compositor *c = tern_compositor_create(W, H);
  struct pic p;
  struct tern_i420 out;
  int in0, out0;
  REQUIRE(c);
  pic_make(&p, W, H);
  CHECK(!tern_compositor_has_input(c));
  CHECK_EQ_INT(tern_compositor_set_input(c, &p.img), 0);
  CHECK(tern_compositor_has_input(c));
  REQUIRE(tern_compositor_draw(c, 0.0, &out) == 0);
  CHECK_EQ_INT(out.width, W);
  CHECK_EQ_INT(out.height, H);
  diff_counts(&out, &p.img, &in0, &out0);
  printf("  overlay at t=0: %d changed pixels in the centre, %d elsewhere\n", in0, out0);
  CHECK(in0 > 2000);    /* the word is drawn */
  CHECK(out0 < in0 / 2); /* the rest of the picture is the input */

  /* Drawn again later without new input: the text has turned (different
   * pixels), and the old overlay is gone rather than smeared. */
  uint8_t *first = malloc((size_t)W * H);
  memcpy(first, out.y, (size_t)W * H);
  REQUIRE(tern_compositor_draw(c, 1.0, &out) == 0);
  int moved = 0;
  for (int i = 0; i < W * H; i++)
    moved += abs(first[i] - out.y[i]) > 8;
  CHECK(moved > 1000);
  int in1, out1;
  diff_counts(&out, &p.img, &in1, &out1);
  CHECK(in1 < in0 * 2); /* no accumulation */

  /* The colour cycles: at t = 0 the fill is red, at t = 2 s (hue 120°) green. */
  int stride;
  REQUIRE(tern_compositor_draw(c, 0.0, &out) == 0);
  const uint8_t *argb = tern_compositor_argb(c, &stride);
  int red = 0;
  for (int y = H / 2 - 40; y < H / 2 + 40; y++)
    for (int x = W / 2 - 120; x < W / 2 + 120; x++) {
      uint32_t px = *(const uint32_t *)(const void *)(argb + (size_t)y * stride + 4 * x);
      red += (px >> 16 & 0xff) > 230 && (px >> 8 & 0xff) < 30 && (px & 0xff) < 30;
    }
  REQUIRE(tern_compositor_draw(c, 2.0, &out) == 0);
  argb = tern_compositor_argb(c, &stride);
  int green = 0;
  for (int y = H / 2 - 60; y < H / 2 + 60; y++)
    for (int x = W / 2 - 120; x < W / 2 + 120; x++) {
      uint32_t px = *(const uint32_t *)(const void *)(argb + (size_t)y * stride + 4 * x);
      green += (px >> 8 & 0xff) > 230 && (px >> 16 & 0xff) < 30 && (px & 0xff) < 30;
    }
  CHECK(red > 500);
  CHECK(green > 500);
  free(first);
  pic_free(&p);
  tern_compositor_destroy(c);
}

static void test_fade_to_white(void) {
  struct tern_compositor *c = tern_compositor_create(W, H);
  struct tern_i420 out;
  REQUIRE(c);
  double prev = -1, first = 0, last = 0;
  bool rising = true;
  for (int n = 0; n < 120; n++) {
    REQUIRE(tern_compositor_draw(c, n / 30.0, &out) == 0);
    /* A corner far from the text. */
    double s = 0;
    for (int y = 0; y < 60; y++)
      for (int x = 0; x < 60; x++)
        s += out.y[y * out.stride_y + x];
    s /= 3600;
    if (n == 0)
      first = s;
    if (prev >= 0 && s < prev)
      rising = false;
    prev = last = s;
  }
  double whole = mean_y(&out);
  printf("  fade: corner luma %.1f → %.1f over 120 frames, mean %.1f\n", first, last, whole);
  CHECK(rising);
  CHECK(first < 40);
  CHECK(last > 200);
  tern_compositor_destroy(c);
}

static void test_scaled_input(void) {
  struct tern_compositor *c = tern_compositor_create(W, H);
  struct pic p;
  struct tern_i420 out;
  REQUIRE(c);
  pic_make(&p, 320, 90); /* wide: letterboxed, bars top and bottom */
  CHECK_EQ_INT(tern_compositor_set_input(c, &p.img), 0);
  REQUIRE(tern_compositor_draw(c, 0.0, &out) == 0);
  /* 320×90 scales by 2 to 640×180, centred: rows 150..329. */
  CHECK(out.y[10 * W + 10] <= 17);               /* bar: black */
  CHECK(abs(out.y[160 * W + 20] - p.y[5 * 320 + 10]) <= 6); /* picture */
  CHECK(out.y[470 * W + 600] <= 17);
  /* A different size later reallocates. */
  pic_free(&p);
  pic_make(&p, 1280, 720);
  CHECK_EQ_INT(tern_compositor_set_input(c, &p.img), 0);
  REQUIRE(tern_compositor_draw(c, 0.0, &out) == 0);
  CHECK(abs(out.y[240 * W + 20] - p.y[360 * 1280 + 40]) <= 8);
  struct tern_i420 bad = p.img;
  bad.width = 1;
  CHECK_EQ_INT(tern_compositor_set_input(c, &bad), -EINVAL);
  CHECK(tern_compositor_create(641, 480) == NULL);
  pic_free(&p);
  tern_compositor_destroy(c);
}

int main(void) {
  RUN(test_round_trip);
  RUN(test_overlay);
  RUN(test_fade_to_white);
  RUN(test_scaled_input);
  /* cairo and fontconfig keep process-wide caches (fonts, glyphs): drop
   * them so that LeakSanitizer sees only what this code allocated. */
  cairo_debug_reset_static_data();
  if (FcFini)
    FcFini();
  return TEST_RESULT();
}
