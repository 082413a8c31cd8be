/* compositor — the video-compositing example's picture: the latest input
 * frame scaled into a fixed canvas (640×480 in the example), with the word
 * "Tern" drawn over it, rotating (1 rad/s) and cycling through the hues
 * (60°/s), as the node-webrtc example drew "node-webrtc" with node-canvas.
 * Until the first input frame arrives, each drawn frame paints white at
 * 2.5 % opacity over the previous one, so the canvas fades from black to
 * white — the seed's "no frame yet" look.
 *
 * Drawing uses cairo on an opaque ARGB32 canvas. Input and output are I420
 * (tern_i420, media/vp8.h); the conversions are BT.601 limited range (what
 * libvpx and browsers assume for VP8), done here in integer arithmetic.
 * The input is kept as RGB at its own size; an input of the canvas size is
 * copied in (the common camera case, no scaling pass), any other size is
 * scaled to fit, aspect kept, centred, bars black.
 *
 * Lifetime: create/destroy own all buffers; set_input copies, so the input
 * may be freed right after. draw allocates only when the input size changes.
 * The output picture points into the compositor and is valid until the next
 * draw or destroy. Not thread-safe. cairo's text rendering goes through
 * fontconfig, which keeps process-wide caches of its own (a font must be
 * installed, e.g. fonts-dejavu-core, or the text is not drawn).
 */
#ifndef TERN_MEDIA_COMPOSITOR_H
#define TERN_MEDIA_COMPOSITOR_H

#include <stdbool.h>
#include <stdint.h>

#include "media/vp8.h"

#define TERN_COMPOSITOR_WIDTH 640
#define TERN_COMPOSITOR_HEIGHT 480

struct tern_compositor;

/* width and height even, 16..4096. NULL on bad size or no memory. */
struct tern_compositor *tern_compositor_create(int width, int height);
void tern_compositor_destroy(struct tern_compositor *c);

/* The picture to draw from now on (copied). 0, -EINVAL (size outside
 * 2..4096), -ENOMEM. */
int tern_compositor_set_input(struct tern_compositor *c, const struct tern_i420 *frame);
bool tern_compositor_has_input(const struct tern_compositor *c);

/* Draws one frame at t seconds (any origin; the overlay's angle and hue are
 * functions of t) and converts it; *out is the canvas as I420. 0 or -EIO
 * (cairo failed). */
int tern_compositor_draw(struct tern_compositor *c, double t, struct tern_i420 *out);

/* The canvas as last drawn: ARGB32 (native-endian 0xAARRGGBB per pixel). */
const uint8_t *tern_compositor_argb(const struct tern_compositor *c, int *stride);

/* Conversions (BT.601, limited range). Widths/heights may be odd; chroma is
 * subsampled with rounding up. argb pixels are 0xAARRGGBB uint32s in native
 * byte order (cairo's ARGB32), alpha ignored on input and written as 0xff. */
void tern_i420_to_argb(const struct tern_i420 *in, uint8_t *argb, int argb_stride);
void tern_argb_to_i420(const uint8_t *argb, int argb_stride, int width, int height,
                       uint8_t *y, int stride_y, uint8_t *u, int stride_u, uint8_t *v,
                       int stride_v);

#endif
