/* opus — a thin libopus wrapper for 48 kHz, 16-bit PCM.
 *
 * Tern always runs Opus at 48 kHz (RFC 7587 fixes the RTP clock at 48 kHz
 * whatever the codec's internal bandwidth), with 1 or 2 channels. Frame
 * lengths are counted in samples per channel: 960 = 20 ms. PCM is
 * interleaved (L R L R ...) for stereo.
 *
 * Lifetime: create allocates everything (one libopus state); encode and
 * decode never allocate, lock or log, so they are safe on the per-frame hot
 * path. An encoder or decoder belongs to one thread at a time.
 *
 * Loss handling on the receive side (RFC 6716 §4.4 and libopus docs):
 *  - a packet is missing and nothing later has arrived: call tern_opus_decode
 *    with pkt = NULL (packet-loss concealment, PLC); it fills the duration of
 *    the last decoded packet (20 ms if none yet), at most max_samples;
 *  - a packet is missing but the next one is here: call tern_opus_decode_fec
 *    with the NEXT packet first (it rebuilds the lost frame from the in-band
 *    FEC data if the sender put any there, otherwise it conceals), then decode
 *    the next packet normally.
 * In-band FEC only exists if the encoder was configured for it (inband_fec +
 * an expected loss > 0); it is carried by SILK frames, so it works in VOIP /
 * speech-like modes at moderate bitrates, not for CELT-only packets.
 *
 * Errors: negative errno values; libopus errors map to -EINVAL (bad argument
 * or frame size), -ENOSPC (output buffer too small), -EPROTO (corrupt
 * packet), -EIO (anything else).
 *
 * RFCs: 6716 (Opus), 7587 (Opus RTP payload, see rtp/opus_pack.h).
 */
#ifndef TERN_MEDIA_OPUS_H
#define TERN_MEDIA_OPUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TERN_OPUS_RATE 48000
#define TERN_OPUS_FRAME_20MS 960
/* The longest Opus packet lasts 120 ms (RFC 6716 §3.2.5). */
#define TERN_OPUS_MAX_FRAME 5760
/* Enough for any single-frame packet we produce (libopus' own advice). */
#define TERN_OPUS_MAX_PACKET 1275

enum tern_opus_application {
  TERN_OPUS_APP_AUDIO = 0, /* music / generated tones: best fidelity */
  TERN_OPUS_APP_VOIP = 1,  /* speech: favours intelligibility, enables SILK */
};

struct tern_opus_enc_config {
  int channels;   /* 1 or 2 */
  int bitrate;    /* bits/s, 6000..510000; 0 = libopus default */
  int complexity; /* 0..10 */
  enum tern_opus_application application;
  bool inband_fec;  /* put LBRR (FEC) data for the previous frame in each packet */
  int loss_percent; /* expected packet loss 0..100: FEC is only emitted if > 0 */
  bool dtx;         /* discontinuous transmission in silence */
};

struct tern_opus_enc;
struct tern_opus_dec;

/* The common case: AUDIO application, no FEC, no DTX. NULL on bad arguments
 * or allocation failure. */
struct tern_opus_enc *tern_opus_enc_create(int channels, int bitrate, int complexity);
/* Every option; NULL on bad arguments or allocation failure. */
struct tern_opus_enc *tern_opus_enc_create_config(const struct tern_opus_enc_config *cfg);
void tern_opus_enc_destroy(struct tern_opus_enc *enc);

/* Encodes frame_samples samples per channel (120, 240, 480, 960, 1920 or
 * 2880 = 2.5..60 ms) of interleaved pcm into out. Returns the packet length
 * (> 0; 1–2 bytes means DTX/silence that need not be sent), or a negative
 * error. */
int tern_opus_encode(struct tern_opus_enc *enc, const int16_t *pcm, int frame_samples,
                     uint8_t *out, size_t cap);
/* Runtime changes (e.g. from congestion control or receiver reports).
 * 0 or -EINVAL. Never allocate. */
int tern_opus_enc_set_bitrate(struct tern_opus_enc *enc, int bitrate);
int tern_opus_enc_set_fec(struct tern_opus_enc *enc, bool on, int loss_percent);
int tern_opus_enc_channels(const struct tern_opus_enc *enc);

/* A 48 kHz decoder producing `channels` channels (a mono stream decoded as
 * stereo is duplicated; stereo decoded as mono is downmixed, by libopus). */
struct tern_opus_dec *tern_opus_dec_create(int channels);
void tern_opus_dec_destroy(struct tern_opus_dec *dec);

/* Decodes one packet into pcm, which has room for max_samples samples per
 * channel (max_samples * channels int16). pkt == NULL (or len == 0) runs
 * packet-loss concealment for the duration of the last packet. Returns the
 * samples per channel written, or a negative error (-ENOSPC if the packet is
 * longer than max_samples, -EPROTO if corrupt). */
int tern_opus_decode(struct tern_opus_dec *dec, const uint8_t *pkt, size_t len, int16_t *pcm,
                     int max_samples);
/* Rebuilds the frame lost just before `next_pkt` from next_pkt's in-band FEC
 * (concealment if it has none). frame_samples is the lost frame's duration
 * per channel (a multiple of 120, usually the same as next_pkt's). Returns
 * frame_samples or a negative error. Decode next_pkt normally afterwards. */
int tern_opus_decode_fec(struct tern_opus_dec *dec, const uint8_t *next_pkt, size_t len,
                         int16_t *pcm, int frame_samples);
int tern_opus_dec_channels(const struct tern_opus_dec *dec);

#endif
