/* opus — see opus.h. */
#include "media/opus.h"

#include <errno.h>
#include <opus.h>
#include <stdlib.h>

struct tern_opus_enc {
  OpusEncoder *st;
  int channels;
};

struct tern_opus_dec {
  OpusDecoder *st;
  int channels;
};

static int map_opus_err(int e) {
  switch (e) {
  case OPUS_BAD_ARG:
    return -EINVAL;
  case OPUS_BUFFER_TOO_SMALL:
    return -ENOSPC;
  case OPUS_INVALID_PACKET:
  case OPUS_INTERNAL_ERROR:
    return -EPROTO;
  case OPUS_ALLOC_FAIL:
    return -ENOMEM;
  default:
    return -EIO;
  }
}

/* Opus accepts exactly these durations per frame at 48 kHz (2.5..60 ms);
 * checking here gives -EINVAL instead of a libopus error code. */
static bool valid_frame(int n) {
  return n == 120 || n == 240 || n == 480 || n == 960 || n == 1920 || n == 2880;
}

struct tern_opus_enc *tern_opus_enc_create(int channels, int bitrate, int complexity) {
  struct tern_opus_enc_config cfg = {
      .channels = channels,
      .bitrate = bitrate,
      .complexity = complexity,
      .application = TERN_OPUS_APP_AUDIO,
  };
  return tern_opus_enc_create_config(&cfg);
}

struct tern_opus_enc *tern_opus_enc_create_config(const struct tern_opus_enc_config *cfg) {
  if (!cfg || (cfg->channels != 1 && cfg->channels != 2) || cfg->complexity < 0 ||
      cfg->complexity > 10 || cfg->loss_percent < 0 || cfg->loss_percent > 100 ||
      (cfg->bitrate != 0 && (cfg->bitrate < 6000 || cfg->bitrate > 510000)))
    return NULL;

  struct tern_opus_enc *enc = calloc(1, sizeof(*enc));
  if (!enc)
    return NULL;
  int app = cfg->application == TERN_OPUS_APP_VOIP ? OPUS_APPLICATION_VOIP
                                                   : OPUS_APPLICATION_AUDIO;
  int err = 0;
  enc->st = opus_encoder_create(TERN_OPUS_RATE, cfg->channels, app, &err);
  if (!enc->st || err != OPUS_OK)
    goto free_enc;
  enc->channels = cfg->channels;

  if (cfg->bitrate && opus_encoder_ctl(enc->st, OPUS_SET_BITRATE(cfg->bitrate)) != OPUS_OK)
    goto destroy_st;
  if (opus_encoder_ctl(enc->st, OPUS_SET_COMPLEXITY(cfg->complexity)) != OPUS_OK ||
      opus_encoder_ctl(enc->st, OPUS_SET_INBAND_FEC(cfg->inband_fec ? 1 : 0)) != OPUS_OK ||
      opus_encoder_ctl(enc->st, OPUS_SET_PACKET_LOSS_PERC(cfg->loss_percent)) != OPUS_OK ||
      opus_encoder_ctl(enc->st, OPUS_SET_DTX(cfg->dtx ? 1 : 0)) != OPUS_OK)
    goto destroy_st;
  return enc;

destroy_st:
  opus_encoder_destroy(enc->st);
free_enc:
  free(enc);
  return NULL;
}

void tern_opus_enc_destroy(struct tern_opus_enc *enc) {
  if (!enc)
    return;
  opus_encoder_destroy(enc->st);
  free(enc);
}

int tern_opus_encode(struct tern_opus_enc *enc, const int16_t *pcm, int frame_samples,
                     uint8_t *out, size_t cap) {
  if (!enc || !pcm || !out || cap == 0 || !valid_frame(frame_samples))
    return -EINVAL;
  /* libopus takes an int32 capacity; more than one maximal packet is never needed. */
  opus_int32 c = cap > 4 * TERN_OPUS_MAX_PACKET ? 4 * TERN_OPUS_MAX_PACKET : (opus_int32)cap;
  int n = opus_encode(enc->st, pcm, frame_samples, out, c);
  return n < 0 ? map_opus_err(n) : n;
}

int tern_opus_enc_set_bitrate(struct tern_opus_enc *enc, int bitrate) {
  if (!enc || bitrate < 6000 || bitrate > 510000)
    return -EINVAL;
  return opus_encoder_ctl(enc->st, OPUS_SET_BITRATE(bitrate)) == OPUS_OK ? 0 : -EINVAL;
}

int tern_opus_enc_set_fec(struct tern_opus_enc *enc, bool on, int loss_percent) {
  if (!enc || loss_percent < 0 || loss_percent > 100)
    return -EINVAL;
  if (opus_encoder_ctl(enc->st, OPUS_SET_INBAND_FEC(on ? 1 : 0)) != OPUS_OK ||
      opus_encoder_ctl(enc->st, OPUS_SET_PACKET_LOSS_PERC(loss_percent)) != OPUS_OK)
    return -EINVAL;
  return 0;
}

int tern_opus_enc_channels(const struct tern_opus_enc *enc) { return enc ? enc->channels : 0; }

struct tern_opus_dec *tern_opus_dec_create(int channels) {
  if (channels != 1 && channels != 2)
    return NULL;
  struct tern_opus_dec *dec = calloc(1, sizeof(*dec));
  if (!dec)
    return NULL;
  int err = 0;
  dec->st = opus_decoder_create(TERN_OPUS_RATE, channels, &err);
  if (!dec->st || err != OPUS_OK) {
    free(dec);
    return NULL;
  }
  dec->channels = channels;
  return dec;
}

void tern_opus_dec_destroy(struct tern_opus_dec *dec) {
  if (!dec)
    return;
  opus_decoder_destroy(dec->st);
  free(dec);
}

/* Concealment must cover a whole number of 2.5 ms units; it repeats the
 * last packet's duration so the output clock keeps its pace. */
static int plc_samples(struct tern_opus_dec *dec, int max_samples) {
  opus_int32 last = 0;
  if (opus_decoder_ctl(dec->st, OPUS_GET_LAST_PACKET_DURATION(&last)) != OPUS_OK || last <= 0)
    last = TERN_OPUS_FRAME_20MS;
  if (last > max_samples)
    last = max_samples;
  return (int)(last - last % 120);
}

int tern_opus_decode(struct tern_opus_dec *dec, const uint8_t *pkt, size_t len, int16_t *pcm,
                     int max_samples) {
  if (!dec || !pcm || max_samples <= 0)
    return -EINVAL;
  if (max_samples > TERN_OPUS_MAX_FRAME)
    max_samples = TERN_OPUS_MAX_FRAME;
  if (!pkt || len == 0) {
    int n = plc_samples(dec, max_samples);
    if (n <= 0)
      return -ENOSPC;
    int r = opus_decode(dec->st, NULL, 0, pcm, n, 0);
    return r < 0 ? map_opus_err(r) : r;
  }
  if (len > 0x7fffffff)
    return -EPROTO;
  int r = opus_decode(dec->st, pkt, (opus_int32)len, pcm, max_samples, 0);
  return r < 0 ? map_opus_err(r) : r;
}

int tern_opus_decode_fec(struct tern_opus_dec *dec, const uint8_t *next_pkt, size_t len,
                         int16_t *pcm, int frame_samples) {
  if (!dec || !pcm || !next_pkt || len == 0 || len > 0x7fffffff || frame_samples <= 0 ||
      frame_samples > TERN_OPUS_MAX_FRAME || frame_samples % 120 != 0)
    return -EINVAL;
  /* decode_fec=1 asks libopus for the previous frame out of this packet's
   * LBRR data; without LBRR it conceals instead, which is what we want. */
  int r = opus_decode(dec->st, next_pkt, (opus_int32)len, pcm, frame_samples, 1);
  return r < 0 ? map_opus_err(r) : r;
}

int tern_opus_dec_channels(const struct tern_opus_dec *dec) { return dec ? dec->channels : 0; }
