/* test_opus — libopus wrapper and the RFC 7587 helpers, on real audio:
 * a tone goes through encode → decode → pitch detection; panning survives
 * stereo coding; PLC and FEC; error paths. Prints the per-frame costs
 * quoted in docs/media.md. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "media/opus.h"
#include "media/pitch.h"
#include "media/tone.h"
#include "rtp/opus_pack.h"
#include "test.h"

#define F 960
#define SECOND 50 /* frames */

/* Encodes `frames` 20 ms frames of tone t and decodes them into out
 * (frames*F*channels samples). Checks every packet's RTP duration. */
static int roundtrip(struct tern_opus_enc *enc, struct tern_opus_dec *dec, struct tern_tone *t,
                     int frames, int16_t *out) {
  int ch = t->channels;
  int16_t pcm[F * 2];
  uint8_t pkt[TERN_OPUS_MAX_PACKET];
  for (int i = 0; i < frames; i++) {
    tern_tone_fill(t, pcm, F);
    int n = tern_opus_encode(enc, pcm, F, pkt, sizeof(pkt));
    if (n <= 0)
      return n < 0 ? n : -EIO;
    struct tern_opus_toc toc;
    if (tern_opus_parse_toc(pkt, (size_t)n, &toc) < 0 || toc.samples != F ||
        toc.stereo != (ch == 2))
      return -EPROTO;
    int d = tern_opus_decode(dec, pkt, (size_t)n, out + (size_t)i * F * ch, F);
    if (d != F)
      return d < 0 ? d : -EIO;
  }
  return 0;
}

static void deinterleave(const int16_t *s, int frames, int ch, int16_t *l) {
  for (int i = 0; i < frames; i++)
    l[i] = s[i * 2 + ch];
}

static double energy(const int16_t *s, int n) {
  double e = 0;
  for (int i = 0; i < n; i++)
    e += (double)s[i] * s[i];
  return e;
}

static void test_mono_tone_pitch_survives(void) {
  const double freqs[] = {440, 1250, 150};
  for (int k = 0; k < 3; k++) {
    for (int cx = 5; cx <= 10; cx += 5) {
      struct tern_opus_enc *enc = tern_opus_enc_create(1, 48000, cx);
      struct tern_opus_dec *dec = tern_opus_dec_create(1);
      REQUIRE(enc && dec);
      CHECK_EQ_INT(tern_opus_enc_channels(enc), 1);
      struct tern_tone t;
      REQUIRE(tern_tone_init(&t, 48000, 1, freqs[k], 0.5) == 0);
      static int16_t out[SECOND * F];
      REQUIRE(roundtrip(enc, dec, &t, SECOND, out) == 0);
      struct tern_pitch *p = tern_pitch_create(NULL);
      REQUIRE(p);
      /* the second half: past the codec's start-up */
      double f = tern_pitch_detect(p, out + SECOND * F / 2, 4096);
      fprintf(stderr, "  %.0f Hz mono, complexity %d -> %.3f Hz\n", freqs[k], cx, f);
      CHECK(fabs(f - freqs[k]) <= 2);
      /* and the level survives too (within 1 dB) */
      double e = energy(out + SECOND * F / 2, SECOND * F / 2) / (SECOND * F / 2);
      double want = 0.5 * 32767 * 0.5 * 32767 / 2;
      CHECK(fabs(10 * log10(e / want)) < 1);
      tern_pitch_destroy(p);
      tern_opus_enc_destroy(enc);
      tern_opus_dec_destroy(dec);
    }
  }
}

/* pan 0 → after stereo Opus, the right channel is silent (< -40 dB of the
 * left); pan 100 the other way; pan 50 balanced. The tone stays 440 Hz. */
static void test_stereo_panning_survives(void) {
  const int pans[] = {0, 100, 50};
  for (int k = 0; k < 3; k++) {
    struct tern_opus_enc *enc = tern_opus_enc_create(2, 96000, 10);
    struct tern_opus_dec *dec = tern_opus_dec_create(2);
    REQUIRE(enc && dec);
    struct tern_tone t;
    REQUIRE(tern_tone_init(&t, 48000, 2, 440, 0.5) == 0);
    REQUIRE(tern_tone_set_pan(&t, pans[k]) == 0);
    static int16_t out[SECOND * F * 2], l[SECOND * F], r[SECOND * F];
    REQUIRE(roundtrip(enc, dec, &t, SECOND, out) == 0);
    deinterleave(out, SECOND * F, 0, l);
    deinterleave(out, SECOND * F, 1, r);
    int half = SECOND * F / 2;
    double el = energy(l + half, half), er = energy(r + half, half);
    double db = 10 * log10((er + 1) / (el + 1));
    fprintf(stderr, "  pan %d: right/left %.1f dB\n", pans[k], db);
    if (pans[k] == 0)
      CHECK(db < -40);
    else if (pans[k] == 100)
      CHECK(db > 40);
    else
      CHECK(fabs(db) < 1);
    struct tern_pitch *p = tern_pitch_create(NULL);
    REQUIRE(p);
    double f = tern_pitch_detect(p, (pans[k] == 100 ? r : l) + half, 4096);
    CHECK(fabs(f - 440) <= 2);
    tern_pitch_destroy(p);
    tern_opus_enc_destroy(enc);
    tern_opus_dec_destroy(dec);
  }
}

/* PLC: a lost packet yields the last packet's duration of concealment that
 * continues the tone, and decoding resumes afterwards. */
static void test_packet_loss_concealment(void) {
  struct tern_opus_enc *enc = tern_opus_enc_create(1, 32000, 5);
  struct tern_opus_dec *dec = tern_opus_dec_create(1);
  REQUIRE(enc && dec);
  int16_t out[F * 3];
  /* PLC before any packet: 20 ms of silence, not an error */
  CHECK_EQ_INT(tern_opus_decode(dec, NULL, 0, out, F), F);
  struct tern_tone t;
  REQUIRE(tern_tone_init(&t, 48000, 1, 440, 0.5) == 0);
  static int16_t tmp[SECOND * F];
  REQUIRE(roundtrip(enc, dec, &t, 20, tmp) == 0);
  CHECK_EQ_INT(tern_opus_decode(dec, NULL, 0, out, F * 3), F); /* one frame, not 3 */
  double e = energy(out, F) / F;
  CHECK(e > 0.1 * (0.5 * 32767 * 0.5 * 32767 / 2)); /* concealment is not silence */
  CHECK_EQ_INT(tern_opus_decode(dec, NULL, 0, out, 500), 480); /* whole 2.5 ms units */
  REQUIRE(roundtrip(enc, dec, &t, 5, tmp) == 0);
  tern_opus_enc_destroy(enc);
  tern_opus_dec_destroy(dec);
}

static double snr_db(const int16_t *ref, const int16_t *x, int n) {
  double s = 0, err = 0;
  for (int i = 0; i < n; i++) {
    s += (double)ref[i] * ref[i];
    err += ((double)ref[i] - x[i]) * ((double)ref[i] - x[i]);
  }
  return 10 * log10(s / (err + 1));
}

/* In-band FEC (VOIP, SILK): the frame lost before packet k is rebuilt from
 * packet k and is much closer to what a lossless decoder produced than
 * plain concealment. */
static void test_inband_fec(void) {
  struct tern_opus_enc_config cfg = {
      .channels = 1,
      .bitrate = 24000,
      .complexity = 5,
      .application = TERN_OPUS_APP_VOIP,
      .inband_fec = true,
      .loss_percent = 20,
  };
  struct tern_opus_enc *enc = tern_opus_enc_create_config(&cfg);
  struct tern_opus_dec *ref = tern_opus_dec_create(1), *fec = tern_opus_dec_create(1),
                       *plc = tern_opus_dec_create(1);
  REQUIRE(enc && ref && fec && plc);
  struct tern_tone t;
  REQUIRE(tern_tone_init(&t, 48000, 1, 300, 0.3) == 0);
  int16_t pcm[F], a[F], b[F], c[F];
  uint8_t pkt[TERN_OPUS_MAX_PACKET];
  double snr_fec = 0, snr_plc = 0;
  int lost = 0;
  for (int i = 0; i < 60; i++) {
    /* vary the frequency so concealment cannot just repeat the last period */
    REQUIRE(tern_tone_set_frequency(&t, 300 + 40 * (i % 5)) == 0);
    tern_tone_fill(&t, pcm, F);
    int n = tern_opus_encode(enc, pcm, F, pkt, sizeof(pkt));
    REQUIRE(n > 0);
    REQUIRE(tern_opus_decode(ref, pkt, (size_t)n, a, F) == F);
    if (i >= 20 && i % 10 == 0) {
      /* packet i is "lost"; packet i+1 carries its FEC */
      int16_t lost_ref[F];
      memcpy(lost_ref, a, sizeof(a));
      tern_tone_fill(&t, pcm, F);
      int m = tern_opus_encode(enc, pcm, F, pkt, sizeof(pkt));
      REQUIRE(m > 0);
      REQUIRE(tern_opus_decode(ref, pkt, (size_t)m, a, F) == F);
      CHECK_EQ_INT(tern_opus_decode_fec(fec, pkt, (size_t)m, b, F), F);
      CHECK_EQ_INT(tern_opus_decode(plc, NULL, 0, c, F), F);
      snr_fec += snr_db(lost_ref, b, F);
      snr_plc += snr_db(lost_ref, c, F);
      lost++;
      CHECK_EQ_INT(tern_opus_decode(fec, pkt, (size_t)m, b, F), F);
      CHECK_EQ_INT(tern_opus_decode(plc, pkt, (size_t)m, c, F), F);
      i++;
      continue;
    }
    REQUIRE(tern_opus_decode(fec, pkt, (size_t)n, b, F) == F);
    REQUIRE(tern_opus_decode(plc, pkt, (size_t)n, c, F) == F);
  }
  snr_fec /= lost;
  snr_plc /= lost;
  fprintf(stderr, "  lost frame vs lossless decode: FEC %.1f dB, PLC %.1f dB\n", snr_fec,
          snr_plc);
  CHECK(snr_fec > snr_plc + 3);
  CHECK(snr_fec > 3);
  CHECK(tern_opus_enc_set_fec(enc, false, 0) == 0);
  CHECK(tern_opus_enc_set_fec(enc, true, 101) == -EINVAL);
  tern_opus_enc_destroy(enc);
  tern_opus_dec_destroy(ref);
  tern_opus_dec_destroy(fec);
  tern_opus_dec_destroy(plc);
}

static void test_errors(void) {
  CHECK(tern_opus_enc_create(3, 64000, 5) == NULL);
  CHECK(tern_opus_enc_create(1, 1000, 5) == NULL);
  CHECK(tern_opus_enc_create(1, 64000, 11) == NULL);
  CHECK(tern_opus_dec_create(0) == NULL);
  struct tern_opus_enc *enc = tern_opus_enc_create(1, 64000, 5);
  struct tern_opus_dec *dec = tern_opus_dec_create(1);
  REQUIRE(enc && dec);
  int16_t pcm[F * 6] = {0};
  uint8_t pkt[TERN_OPUS_MAX_PACKET];
  CHECK_EQ_INT(tern_opus_encode(enc, pcm, 1000, pkt, sizeof(pkt)), -EINVAL);
  CHECK_EQ_INT(tern_opus_encode(enc, pcm, F, pkt, 0), -EINVAL);
  CHECK_EQ_INT(tern_opus_enc_set_bitrate(enc, 5), -EINVAL);
  CHECK_EQ_INT(tern_opus_enc_set_bitrate(enc, 32000), 0);
  /* a 60 ms packet does not fit a 20 ms buffer */
  int n = tern_opus_encode(enc, pcm, 2880, pkt, sizeof(pkt));
  REQUIRE(n > 0);
  CHECK_EQ_INT(tern_opus_packet_samples(pkt, (size_t)n), 2880);
  CHECK_EQ_INT(tern_opus_decode(dec, pkt, (size_t)n, pcm, F), -ENOSPC);
  CHECK_EQ_INT(tern_opus_decode(dec, pkt, (size_t)n, pcm, F * 6), 2880);
  /* code 3 with a frame count of 0 is malformed (RFC 6716 §3.2.5) */
  const uint8_t bad[] = {0x03, 0x00, 0x00};
  CHECK_EQ_INT(tern_opus_decode(dec, bad, sizeof(bad), pcm, F), -EPROTO);
  CHECK_EQ_INT(tern_opus_decode_fec(dec, NULL, 0, pcm, F), -EINVAL);
  CHECK_EQ_INT(tern_opus_decode_fec(dec, pkt, (size_t)n, pcm, 100), -EINVAL);
  tern_opus_enc_destroy(enc);
  tern_opus_dec_destroy(dec);
}

/* RFC 6716 §3.1 TOC: durations for each mode and frame-count code. */
static void test_toc_and_timestamps(void) {
  struct {
    uint8_t b[2];
    size_t len;
    int samples;
  } cases[] = {
      {{0x00 | 0}, 1, 480},          /* SILK NB 10 ms, code 0 */
      {{(1 << 3) | 0}, 1, 960},      /* SILK NB 20 ms */
      {{(3 << 3) | 1}, 1, 5760},     /* SILK 60 ms, code 1: 2 frames */
      {{(13 << 3) | 2}, 1, 1920},    /* hybrid 20 ms, code 2: 2 frames */
      {{(16 << 3) | 3, 0x05}, 2, 600}, /* CELT 2.5 ms × 5 */
      {{(31 << 3) | 4 | 0}, 1, 960}, /* CELT FB 20 ms stereo */
      {{(31 << 3) | 3, 0x06}, 2, 5760}, /* 6 × 20 ms = 120 ms: the maximum */
      {{(31 << 3) | 3, 0x07}, 2, -EPROTO}, /* 140 ms */
      {{(31 << 3) | 3, 0x40}, 2, -EPROTO}, /* count 0 (v bit set) */
      {{(31 << 3) | 3}, 1, -EPROTO},       /* count byte missing */
      {{0}, 0, -EPROTO},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    CHECK_EQ_INT(tern_opus_packet_samples(cases[i].b, cases[i].len), cases[i].samples);
  struct tern_opus_toc toc;
  const uint8_t st[] = {(31 << 3) | 4};
  REQUIRE(tern_opus_parse_toc(st, 1, &toc) == 0);
  CHECK(toc.stereo && toc.config == 31 && toc.frames == 1);

  struct tern_opus_packetizer pz;
  tern_opus_packetizer_init(&pz, 0xfffffc00u);
  const uint8_t p20[] = {(31 << 3), 0xaa};
  const uint8_t p60[] = {(3 << 3), 0xaa};
  CHECK_EQ_INT(tern_opus_packetizer_next(&pz, p20, 2), 0xfffffc00u);
  CHECK_EQ_INT(tern_opus_packetizer_next(&pz, p60, 2), (uint32_t)(0xfffffc00u + 960));
  CHECK_EQ_INT(tern_opus_packetizer_next(&pz, p20, 2), (uint32_t)(0xfffffc00u + 960 + 2880));
  CHECK_EQ_INT(tern_opus_packetizer_next(&pz, NULL, 0), (uint32_t)(0xfffffc00u + 960 + 2880 + 960));
  CHECK_EQ_INT(tern_opus_rtp_ts(0xffffffffu, 2, 960), 1919u);
  CHECK_EQ_INT(tern_opus_rtp_ts(7, 50 * 3600 * 24, 960), (uint32_t)(7 + 50ull * 3600 * 24 * 960));
}

static double us_since(const struct timespec *a) {
  struct timespec b;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
  return (b.tv_sec - a->tv_sec) * 1e6 + (b.tv_nsec - a->tv_nsec) / 1e3;
}

/* Not a pass/fail check: the cost per 20 ms frame for docs/media.md
 * (meaningful only in the optimised, unsanitised build). Thread CPU time,
 * not wall time, so that other processes on the machine count less. */
static void test_cost(void) {
  const int frames = 250; /* 5 s of audio */
  /* rows 0-3: AUDIO application (the tone apps), mono/stereo × complexity
   * 5/10; rows 4-5: VOIP mono 24 kbit/s, which codes SILK (the mixer's
   * speech case) */
  for (int row = 0; row < 6; row++) {
    int ch = row < 4 ? 1 + row / 2 : 1, cx = row % 2 ? 10 : 5;
    bool voip = row >= 4;
    int rate = voip ? 24000 : ch == 1 ? 48000 : 96000;
    struct tern_opus_enc_config cfg = {.channels = ch, .bitrate = rate, .complexity = cx,
                                       .application = voip ? TERN_OPUS_APP_VOIP
                                                           : TERN_OPUS_APP_AUDIO};
    {
      struct tern_opus_enc *enc = tern_opus_enc_create_config(&cfg);
      struct tern_opus_dec *dec = tern_opus_dec_create(ch);
      REQUIRE(enc && dec);
      struct tern_tone t;
      REQUIRE(tern_tone_init(&t, 48000, ch, 440, 0.5) == 0);
      static int16_t pcm[250][F * 2], out[F * 2];
      static uint8_t pkt[250][TERN_OPUS_MAX_PACKET];
      static int len[250];
      for (int i = 0; i < frames; i++) {
        REQUIRE(tern_tone_set_frequency(&t, 200 + 10 * (i % 50)) == 0);
        tern_tone_fill(&t, pcm[i], F);
      }
      /* best of 3 passes over the same 5 s (fresh state each time), so a
       * busy neighbour on the machine inflates the figure less */
      double enc_us = 1e9, dec_us = 1e9;
      int ok = 0;
      for (int rep = 0; rep < 3; rep++) {
        tern_opus_enc_destroy(enc);
        tern_opus_dec_destroy(dec);
        enc = tern_opus_enc_create_config(&cfg);
        dec = tern_opus_dec_create(ch);
        REQUIRE(enc && dec);
        struct timespec a;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
        for (int i = 0; i < frames; i++)
          len[i] = tern_opus_encode(enc, pcm[i], F, pkt[i], TERN_OPUS_MAX_PACKET);
        double e = us_since(&a) / frames;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
        ok = 0;
        for (int i = 0; i < frames; i++)
          ok += tern_opus_decode(dec, pkt[i], (size_t)len[i], out, F) == F;
        double d = us_since(&a) / frames;
        enc_us = e < enc_us ? e : enc_us;
        dec_us = d < dec_us ? d : dec_us;
      }
      CHECK_EQ_INT(ok, frames);
      fprintf(stderr,
              "  %s %s %2d kbit/s complexity %2d: encode %6.1f us, decode %5.1f us per 20 ms\n",
              voip ? "voip " : "audio", ch == 1 ? "mono  " : "stereo", rate / 1000, cx, enc_us,
              dec_us);
      tern_opus_enc_destroy(enc);
      tern_opus_dec_destroy(dec);
    }
  }
}

int main(void) {
  RUN(test_mono_tone_pitch_survives);
  RUN(test_stereo_panning_survives);
  RUN(test_packet_loss_concealment);
  RUN(test_inband_fec);
  RUN(test_errors);
  RUN(test_toc_and_timestamps);
  RUN(test_cost);
  return TEST_RESULT();
}
