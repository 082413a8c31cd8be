/* The video-compositing canvas: see compositor.h. */
#include "media/compositor.h"

#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FADE_ALPHA 0.025  /* the seed's rgba(255, 255, 255, 0.025) per frame */
#define FONT_SIZE 60.0
#define DEG_PER_SECOND 60.0 /* hue cycle: one turn of the colour wheel in 6 s */

struct tern_compositor {
  int width, height;
  cairo_surface_t *canvas;
  cairo_t *cr;
  /* The latest input, as RGB at its own size: each frame is drawn from it,
   * so the previous frame's overlay never smears into the next. */
  cairo_surface_t *input;
  int input_w, input_h;
  bool has_input;
  uint8_t *i420; /* output planes, contiguous */
};

static inline uint8_t clamp255(int v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }

static inline uint32_t yuv_px(int c, int rv, int guv, int bu) {
  return 0xff000000u | (uint32_t)clamp255((c + rv) >> 8) << 16 |
         (uint32_t)clamp255((c - guv) >> 8) << 8 | clamp255((c + bu) >> 8);
}

void tern_i420_to_argb(const struct tern_i420 *in, uint8_t *argb, int argb_stride) {
  for (int row = 0; row < in->height; row++) {
    const uint8_t *y = in->y + (size_t)row * in->stride_y;
    const uint8_t *u = in->u + (size_t)(row / 2) * in->stride_u;
    const uint8_t *v = in->v + (size_t)(row / 2) * in->stride_v;
    uint32_t *px = (uint32_t *)(void *)(argb + (size_t)row * argb_stride);
    /* Two pixels share a chroma sample: its three products once per pair. */
    for (int col = 0; col < in->width; col += 2) {
      int d = u[col / 2] - 128, e = v[col / 2] - 128;
      int rv = 409 * e + 128, guv = 100 * d + 208 * e - 128, bu = 516 * d + 128;
      px[col] = yuv_px(298 * (y[col] - 16), rv, guv, bu);
      if (col + 1 < in->width)
        px[col + 1] = yuv_px(298 * (y[col + 1] - 16), rv, guv, bu);
    }
  }
}

static inline void rgb_of(uint32_t p, int *r, int *g, int *b) {
  *r = (int)(p >> 16 & 0xff);
  *g = (int)(p >> 8 & 0xff);
  *b = (int)(p & 0xff);
}

static inline uint8_t luma(int r, int g, int b) {
  return (uint8_t)(((66 * r + 129 * g + 25 * b + 128) >> 8) + 16);
}

void tern_argb_to_i420(const uint8_t *argb, int argb_stride, int width, int height,
                       uint8_t *y, int stride_y, uint8_t *u, int stride_u, uint8_t *v,
                       int stride_v) {
  /* One pass over each 2×2 block: four lumas and the block's average
   * chroma, reading each pixel once. At an odd right or bottom edge the
   * missing pixels repeat the last column or row. */
  for (int row = 0; row < height; row += 2) {
    int row1 = row + 1 < height ? row + 1 : row;
    const uint32_t *p0 = (const uint32_t *)(const void *)(argb + (size_t)row * argb_stride);
    const uint32_t *p1 = (const uint32_t *)(const void *)(argb + (size_t)row1 * argb_stride);
    uint8_t *y0 = y + (size_t)row * stride_y, *y1 = y + (size_t)row1 * stride_y;
    uint8_t *urow = u + (size_t)(row / 2) * stride_u, *vrow = v + (size_t)(row / 2) * stride_v;
    for (int col = 0; col < width; col += 2) {
      int col1 = col + 1 < width ? col + 1 : col;
      int r[4], g[4], b[4];
      rgb_of(p0[col], &r[0], &g[0], &b[0]);
      rgb_of(p0[col1], &r[1], &g[1], &b[1]);
      rgb_of(p1[col], &r[2], &g[2], &b[2]);
      rgb_of(p1[col1], &r[3], &g[3], &b[3]);
      /* Row and column repeats at edges write the same value twice. */
      y0[col] = luma(r[0], g[0], b[0]);
      y0[col1] = luma(r[1], g[1], b[1]);
      y1[col] = luma(r[2], g[2], b[2]);
      y1[col1] = luma(r[3], g[3], b[3]);
      int ra = (r[0] + r[1] + r[2] + r[3] + 2) >> 2, ga = (g[0] + g[1] + g[2] + g[3] + 2) >> 2,
          ba = (b[0] + b[1] + b[2] + b[3] + 2) >> 2;
      urow[col / 2] = clamp255(((-38 * ra - 74 * ga + 112 * ba + 128) >> 8) + 128);
      vrow[col / 2] = clamp255(((112 * ra - 94 * ga - 18 * ba + 128) >> 8) + 128);
    }
  }
}

struct tern_compositor *tern_compositor_create(int width, int height) {
  struct tern_compositor *c;
  if (width < 16 || height < 16 || width > 4096 || height > 4096 || (width & 1) || (height & 1))
    return NULL;
  if (!(c = calloc(1, sizeof *c)))
    return NULL;
  c->width = width;
  c->height = height;
  if (!(c->i420 = malloc((size_t)width * height * 3 / 2)))
    goto free_c;
  c->canvas = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
  if (cairo_surface_status(c->canvas) != CAIRO_STATUS_SUCCESS)
    goto destroy_canvas;
  c->cr = cairo_create(c->canvas);
  if (cairo_status(c->cr) != CAIRO_STATUS_SUCCESS)
    goto destroy_cr;
  /* Opaque black to start: the fade to white starts from there. */
  cairo_set_source_rgb(c->cr, 0, 0, 0);
  cairo_paint(c->cr);
  cairo_select_font_face(c->cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size(c->cr, FONT_SIZE);
  return c;

destroy_cr:
  cairo_destroy(c->cr);
destroy_canvas:
  cairo_surface_destroy(c->canvas);
  free(c->i420);
free_c:
  free(c);
  return NULL;
}

void tern_compositor_destroy(struct tern_compositor *c) {
  if (!c)
    return;
  if (c->input)
    cairo_surface_destroy(c->input);
  cairo_destroy(c->cr);
  cairo_surface_destroy(c->canvas);
  free(c->i420);
  free(c);
}

bool tern_compositor_has_input(const struct tern_compositor *c) { return c->has_input; }

int tern_compositor_set_input(struct tern_compositor *c, const struct tern_i420 *f) {
  if (f->width < 2 || f->height < 2 || f->width > 4096 || f->height > 4096)
    return -EINVAL;
  if (!c->input || c->input_w != f->width || c->input_h != f->height) {
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, f->width, f->height);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
      cairo_surface_destroy(s);
      return -ENOMEM;
    }
    if (c->input)
      cairo_surface_destroy(c->input);
    c->input = s;
    c->input_w = f->width;
    c->input_h = f->height;
  }
  cairo_surface_flush(c->input);
  tern_i420_to_argb(f, cairo_image_surface_get_data(c->input),
                    cairo_image_surface_get_stride(c->input));
  cairo_surface_mark_dirty(c->input);
  c->has_input = true;
  return 0;
}

/* HSV with full saturation and value to RGB, hue in degrees. */
static void hue_rgb(double hue, double *r, double *g, double *b) {
  double h = fmod(hue, 360.0) / 60.0, x = 1.0 - fabs(fmod(h, 2.0) - 1.0);
  int sector = (int)h;
  double rgb[6][3] = {{1, x, 0}, {x, 1, 0}, {0, 1, x}, {0, x, 1}, {x, 0, 1}, {1, 0, x}};
  if (sector < 0 || sector > 5)
    sector = 0;
  *r = rgb[sector][0], *g = rgb[sector][1], *b = rgb[sector][2];
}

static void draw_background(struct tern_compositor *c) {
  cairo_t *cr = c->cr;
  if (!c->has_input) {
    cairo_set_source_rgba(cr, 1, 1, 1, FADE_ALPHA);
    cairo_paint(cr);
    return;
  }
  if (c->input_w == c->width && c->input_h == c->height) {
    /* Same size: an identity blit, which pixman does as a plain copy. */
    cairo_set_operator(cr, CAIRO_OPERATOR_SOURCE);
    cairo_set_source_surface(cr, c->input, 0, 0);
    cairo_paint(cr);
    cairo_set_operator(cr, CAIRO_OPERATOR_OVER);
    return;
  }
  double sx = (double)c->width / c->input_w, sy = (double)c->height / c->input_h;
  double s = sx < sy ? sx : sy;
  double dw = c->input_w * s, dh = c->input_h * s;
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_paint(cr);
  cairo_save(cr);
  cairo_translate(cr, (c->width - dw) / 2, (c->height - dh) / 2);
  cairo_scale(cr, s, s);
  cairo_set_source_surface(cr, c->input, 0, 0);
  /* Bilinear is plenty for video and several times cheaper than GOOD. */
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_BILINEAR);
  cairo_paint(cr);
  cairo_restore(cr);
}

static void draw_overlay(struct tern_compositor *c, double t) {
  static const char text[] = "Tern";
  cairo_t *cr = c->cr;
  cairo_text_extents_t ext;
  double r, g, b;
  hue_rgb(fmod(t * DEG_PER_SECOND, 360.0) + (t < 0 ? 360.0 : 0), &r, &g, &b);
  cairo_save(cr);
  cairo_translate(cr, c->width / 2.0, c->height / 2.0);
  cairo_rotate(cr, fmod(t, 2 * M_PI));
  cairo_text_extents(cr, text, &ext);
  cairo_move_to(cr, -(ext.x_bearing + ext.width / 2), -(ext.y_bearing + ext.height / 2));
  cairo_text_path(cr, text);
  cairo_set_source_rgb(cr, r, g, b);
  cairo_fill_preserve(cr);
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_line_width(cr, 1.5);
  cairo_stroke(cr);
  cairo_restore(cr);
}

int tern_compositor_draw(struct tern_compositor *c, double t, struct tern_i420 *out) {
  size_t ysz = (size_t)c->width * c->height, csz = ysz / 4;
  draw_background(c);
  draw_overlay(c, t);
  if (cairo_status(c->cr) != CAIRO_STATUS_SUCCESS)
    return -EIO;
  cairo_surface_flush(c->canvas);
  uint8_t *y = c->i420, *u = y + ysz, *v = u + csz;
  tern_argb_to_i420(cairo_image_surface_get_data(c->canvas),
                    cairo_image_surface_get_stride(c->canvas), c->width, c->height, y, c->width,
                    u, c->width / 2, v, c->width / 2);
  *out = (struct tern_i420){.y = y, .u = u, .v = v, .stride_y = c->width,
                            .stride_u = c->width / 2, .stride_v = c->width / 2,
                            .width = c->width, .height = c->height};
  return 0;
}

const uint8_t *tern_compositor_argb(const struct tern_compositor *c, int *stride) {
  cairo_surface_flush(c->canvas);
  if (stride)
    *stride = cairo_image_surface_get_stride(c->canvas);
  return cairo_image_surface_get_data(c->canvas);
}
