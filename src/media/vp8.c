/* libvpx VP8 decoder and real-time encoder: see vp8.h. */
#include "media/vp8.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <vpx/vp8cx.h>
#include <vpx/vp8dx.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vpx_encoder.h>

#include "core/log.h"

struct tern_vp8_dec {
  vpx_codec_ctx_t ctx;
};

struct tern_vp8_dec *tern_vp8_dec_create(void) {
  struct tern_vp8_dec *d = calloc(1, sizeof *d);
  vpx_codec_dec_cfg_t cfg = {.threads = 1};
  if (!d)
    return NULL;
  if (vpx_codec_dec_init(&d->ctx, vpx_codec_vp8_dx(), &cfg, 0) != VPX_CODEC_OK) {
    tern_log_error(NULL, "vp8: decoder init failed");
    free(d);
    return NULL;
  }
  return d;
}

void tern_vp8_dec_destroy(struct tern_vp8_dec *d) {
  if (!d)
    return;
  vpx_codec_destroy(&d->ctx);
  free(d);
}

int tern_vp8_decode(struct tern_vp8_dec *d, const uint8_t *frame, size_t len,
                    struct tern_i420 *out) {
  vpx_codec_iter_t iter = NULL;
  vpx_image_t *img, *last = NULL;
  if (!frame || len == 0 || len > UINT32_MAX)
    return -EPROTO;
  if (vpx_codec_decode(&d->ctx, frame, (unsigned)len, NULL, 0) != VPX_CODEC_OK)
    return -EPROTO;
  /* VP8 yields at most one picture per frame; drain anyway so libvpx's
   * iterator state never outlives this call. */
  while ((img = vpx_codec_get_frame(&d->ctx, &iter)))
    last = img;
  if (!last)
    return 0;
  if (last->fmt != VPX_IMG_FMT_I420)
    return -EPROTO;
  out->y = last->planes[VPX_PLANE_Y];
  out->u = last->planes[VPX_PLANE_U];
  out->v = last->planes[VPX_PLANE_V];
  out->stride_y = last->stride[VPX_PLANE_Y];
  out->stride_u = last->stride[VPX_PLANE_U];
  out->stride_v = last->stride[VPX_PLANE_V];
  out->width = (int)last->d_w;
  out->height = (int)last->d_h;
  return 1;
}

struct tern_vp8_enc {
  vpx_codec_ctx_t ctx;
  vpx_codec_enc_cfg_t cfg;
  vpx_image_t img; /* a header only: planes point at the caller's picture */
  bool force_key;
};

struct tern_vp8_enc *tern_vp8_enc_create(const struct tern_vp8_enc_config *c) {
  struct tern_vp8_enc *e;
  int cpu = c->cpu_used ? c->cpu_used : 8;
  if (c->width < 16 || c->width > 4096 || c->height < 16 || c->height > 4096 ||
      (c->width & 1) || (c->height & 1) || c->fps < 1 || c->fps > 120 ||
      c->bitrate_kbps < 50 || c->bitrate_kbps > 20000 || cpu < 0 || cpu > 16 ||
      c->threads < 0 || c->threads > 16)
    return NULL;
  if (!(e = calloc(1, sizeof *e)))
    return NULL;
  if (vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &e->cfg, 0) != VPX_CODEC_OK)
    goto free_e;
  e->cfg.g_w = (unsigned)c->width;
  e->cfg.g_h = (unsigned)c->height;
  e->cfg.g_timebase.num = 1;
  e->cfg.g_timebase.den = c->fps;
  e->cfg.g_threads = c->threads ? (unsigned)c->threads : 1;
  e->cfg.g_pass = VPX_RC_ONE_PASS;
  e->cfg.g_lag_in_frames = 0; /* every input gives its output now */
  e->cfg.g_error_resilient = VPX_ERROR_RESILIENT_DEFAULT;
  e->cfg.rc_end_usage = VPX_CBR;
  e->cfg.rc_target_bitrate = c->bitrate_kbps;
  e->cfg.rc_min_quantizer = 4;
  e->cfg.rc_max_quantizer = 56;
  e->cfg.rc_undershoot_pct = 100;
  e->cfg.rc_overshoot_pct = 15;
  /* Small buffers keep the bitrate steady over ~0.5 s, as WebRTC senders do. */
  e->cfg.rc_buf_initial_sz = 500;
  e->cfg.rc_buf_optimal_sz = 600;
  e->cfg.rc_buf_sz = 1000;
  e->cfg.rc_dropframe_thresh = 0; /* the clock already paces; keep every frame */
  e->cfg.kf_mode = VPX_KF_AUTO;
  e->cfg.kf_max_dist = (unsigned)c->fps * 10; /* fallback when no PLI arrives */
  if (vpx_codec_enc_init(&e->ctx, vpx_codec_vp8_cx(), &e->cfg, 0) != VPX_CODEC_OK) {
    tern_log_error(NULL, "vp8: encoder init failed: %s", vpx_codec_error(&e->ctx));
    goto free_e;
  }
  if (vpx_codec_control(&e->ctx, VP8E_SET_CPUUSED, cpu) != VPX_CODEC_OK ||
      vpx_codec_control(&e->ctx, VP8E_SET_STATIC_THRESHOLD, 1) != VPX_CODEC_OK ||
      vpx_codec_control(&e->ctx, VP8E_SET_NOISE_SENSITIVITY, 0) != VPX_CODEC_OK ||
      vpx_codec_control(&e->ctx, VP8E_SET_TOKEN_PARTITIONS, VP8_ONE_TOKENPARTITION) !=
          VPX_CODEC_OK ||
      /* Caps a key frame at ~3 average frames so it fits the pacing budget. */
      vpx_codec_control(&e->ctx, VP8E_SET_MAX_INTRA_BITRATE_PCT, 300) != VPX_CODEC_OK)
    goto destroy_ctx;
  /* vpx_img_wrap fills the format fields. The data pointer is never
   * dereferenced: tern_vp8_encode points the planes at the caller's picture. */
  vpx_img_wrap(&e->img, VPX_IMG_FMT_I420, (unsigned)c->width, (unsigned)c->height, 1,
               (unsigned char *)e);
  return e;

destroy_ctx:
  tern_log_error(NULL, "vp8: encoder control failed: %s", vpx_codec_error(&e->ctx));
  vpx_codec_destroy(&e->ctx);
free_e:
  free(e);
  return NULL;
}

void tern_vp8_enc_destroy(struct tern_vp8_enc *e) {
  if (!e)
    return;
  vpx_codec_destroy(&e->ctx);
  free(e);
}

int tern_vp8_enc_set_bitrate(struct tern_vp8_enc *e, unsigned kbps) {
  if (kbps < 50 || kbps > 20000)
    return -EINVAL;
  if (kbps == e->cfg.rc_target_bitrate)
    return 0;
  e->cfg.rc_target_bitrate = kbps;
  if (vpx_codec_enc_config_set(&e->ctx, &e->cfg) != VPX_CODEC_OK)
    return -EINVAL;
  return 0;
}

unsigned tern_vp8_enc_bitrate(const struct tern_vp8_enc *e) { return e->cfg.rc_target_bitrate; }

void tern_vp8_enc_request_keyframe(struct tern_vp8_enc *e) { e->force_key = true; }

int tern_vp8_encode(struct tern_vp8_enc *e, const struct tern_i420 *in, uint64_t pts,
                    uint8_t *out, size_t cap, bool *keyframe) {
  const vpx_codec_cx_pkt_t *pkt;
  vpx_codec_iter_t iter = NULL;
  size_t len = 0;
  bool key = false, overflow = false;
  if ((unsigned)in->width != e->cfg.g_w || (unsigned)in->height != e->cfg.g_h)
    return -EINVAL;
  /* libvpx only reads the input, but its image type is not const. */
  e->img.planes[VPX_PLANE_Y] = (unsigned char *)(uintptr_t)in->y;
  e->img.planes[VPX_PLANE_U] = (unsigned char *)(uintptr_t)in->u;
  e->img.planes[VPX_PLANE_V] = (unsigned char *)(uintptr_t)in->v;
  e->img.stride[VPX_PLANE_Y] = in->stride_y;
  e->img.stride[VPX_PLANE_U] = in->stride_u;
  e->img.stride[VPX_PLANE_V] = in->stride_v;
  vpx_enc_frame_flags_t flags = e->force_key ? VPX_EFLAG_FORCE_KF : 0;
  e->force_key = false;
  if (vpx_codec_encode(&e->ctx, &e->img, (vpx_codec_pts_t)pts, 1, flags, VPX_DL_REALTIME) !=
      VPX_CODEC_OK) {
    e->force_key = true;
    return -EIO;
  }
  while ((pkt = vpx_codec_get_cx_data(&e->ctx, &iter))) {
    if (pkt->kind != VPX_CODEC_CX_FRAME_PKT)
      continue;
    if (len + pkt->data.frame.sz > cap) {
      overflow = true;
      continue;
    }
    memcpy(out + len, pkt->data.frame.buf, pkt->data.frame.sz);
    len += pkt->data.frame.sz;
    key = key || (pkt->data.frame.flags & VPX_FRAME_IS_KEY);
  }
  if (overflow) {
    /* The receiver's reference chain now has a hole: restart it. */
    e->force_key = true;
    return -ENOSPC;
  }
  if (keyframe)
    *keyframe = key;
  return (int)len;
}
