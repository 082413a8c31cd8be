/* vp8 — libvpx VP8 decoder and real-time encoder (RFC 6386 bitstream).
 *
 * The decoder takes whole frames as the RTP assembler delivers them
 * (rtp/vp8_pack.h) and exposes the decoded picture as a borrowed I420
 * image. The encoder is set up for interactive video: one-pass CBR,
 * VPX_DL_REALTIME, cpu-used 8 (the fastest speed that still looks fine at
 * 640×480), no lagged frames (latency is one frame), error-resilient mode
 * (a lost frame does not poison entropy contexts of the following ones), and
 * periodic key frames only as a fallback: the receiver asks for one with
 * PLI/FIR, which tern_vp8_enc_request_keyframe turns into a forced key frame.
 *
 * Lifetime: create/destroy own everything. A tern_i420 from the decoder
 * points into libvpx's frame buffers and is valid until the next
 * decode or destroy. Neither direction allocates per frame in this code
 * (libvpx keeps its own pools after the first frame). Not thread-safe; one
 * object per stream.
 */
#ifndef TERN_MEDIA_VP8_H
#define TERN_MEDIA_VP8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A planar 4:2:0 picture (Y full size, U and V half size rounded up).
 * Borrowed pointers; strides in bytes. */
struct tern_i420 {
  const uint8_t *y, *u, *v;
  int stride_y, stride_u, stride_v;
  int width, height;
};

/* ---- decoder ---- */

struct tern_vp8_dec;

struct tern_vp8_dec *tern_vp8_dec_create(void);
void tern_vp8_dec_destroy(struct tern_vp8_dec *d);
/* Decodes one complete VP8 frame. 1 and *out filled when a picture came out,
 * 0 when the frame produced none (e.g. an invisible alt-ref frame), or
 * -EPROTO when libvpx rejected the data (the caller should then wait for a
 * key frame). */
int tern_vp8_decode(struct tern_vp8_dec *d, const uint8_t *frame, size_t len,
                    struct tern_i420 *out);

/* ---- encoder ---- */

struct tern_vp8_enc_config {
  int width, height;     /* even, 16..4096 */
  int fps;               /* 1..120 */
  unsigned bitrate_kbps; /* target, 50..20000 */
  int cpu_used;          /* libvpx speed, 0..16 (0 = default 8) */
  int threads;           /* 0 = 1 */
};

struct tern_vp8_enc;

/* NULL on bad config or when libvpx refuses it. */
struct tern_vp8_enc *tern_vp8_enc_create(const struct tern_vp8_enc_config *cfg);
void tern_vp8_enc_destroy(struct tern_vp8_enc *e);
/* Changes the target bitrate from the next frame on (e.g. following the
 * receiver's REMB). 0 or -EINVAL (outside 50..20000). */
int tern_vp8_enc_set_bitrate(struct tern_vp8_enc *e, unsigned kbps);
unsigned tern_vp8_enc_bitrate(const struct tern_vp8_enc *e);
/* The next encoded frame will be a key frame. */
void tern_vp8_enc_request_keyframe(struct tern_vp8_enc *e);
/* Encodes img (must have the configured size) shown at frame index pts.
 * Returns the encoded length written to out (0 when the rate control dropped
 * the frame), -EINVAL (wrong size), -ENOSPC (cap too small; the frame is
 * lost and a key frame is forced next), -EIO (libvpx error). *keyframe is set
 * for key frames. */
int tern_vp8_encode(struct tern_vp8_enc *e, const struct tern_i420 *img, uint64_t pts,
                    uint8_t *out, size_t cap, bool *keyframe);

#endif
