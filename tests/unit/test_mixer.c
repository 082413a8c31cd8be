/* test_mixer — the conversation mixer on real Opus: clients send distinct
 * tones as RTP, each decodes what the mixer sends it and the tones are
 * measured (Goertzel). Mix-minus, the one shared encode for listeners, the
 * encoder hand-over, clipping, loss, reordering, join/leave/destroy from
 * inside emit, latency. With TERN_MIXER_BENCH=1 it also prints the CPU cost
 * per tick quoted in docs/mixer.md. */
#include <errno.h>
#include <math.h>
#include <opus.h>
#include <stdlib.h>
#include <time.h>

#include "media/mixer.h"
#include "media/opus.h"
#include "media/tone.h"
#include "rtp/rtp.h"
#include "test.h"

#define F TERN_MIXER_FRAME
#define EXT_ID 1
#define MAXC 120

/* ---- a test client: a microphone (tone → Opus → RTP) and a receiver ---- */

struct client {
  struct tern_mixer_participant *p;
  struct tern_opus_enc *enc;
  struct tern_tone tone;
  bool sends;
  int ext_level; /* -2: no extension; -1: measured from the pcm; else forced */
  uint16_t seq;
  uint32_t ts, ssrc;
  struct tern_opus_dec *dec;
  int16_t *out; /* decoded received audio */
  size_t out_len, out_cap;
  int emits;
  const uint8_t *last_ptr;
  size_t last_len;
  uint8_t last[TERN_OPUS_MAX_PACKET];
};

static int frame_level(const int16_t *pcm) {
  double e = 0;
  for (int i = 0; i < F; i++)
    e += (double)pcm[i] * pcm[i];
  if (e == 0)
    return 127;
  long l = lrint(-10.0 * log10(e / F / (32767.0 * 32767.0)));
  return l < 0 ? 0 : l > 127 ? 127 : (int)l;
}

static void client_init(struct client *c, double freq, double amp, size_t out_frames) {
  memset(c, 0, sizeof(*c));
  c->enc = tern_opus_enc_create(1, 48000, 5);
  c->dec = tern_opus_dec_create(1);
  tern_tone_init(&c->tone, 48000, 1, freq, amp);
  c->sends = true;
  c->ext_level = -2;
  c->seq = (uint16_t)(65520 + (unsigned)freq % 7); /* wraps within the first tick or so */
  c->ssrc = 0x1000u + (uint32_t)freq;
  c->ts = 12345;
  c->out_cap = out_frames * F;
  c->out = out_frames ? calloc(c->out_cap, sizeof(int16_t)) : NULL;
}

static void client_fini(struct client *c) {
  tern_opus_enc_destroy(c->enc);
  tern_opus_dec_destroy(c->dec);
  free(c->out);
}

/* Encodes the client's next 20 ms into an RTP packet. */
static size_t client_packet(struct client *c, uint8_t *buf, size_t cap) {
  int16_t pcm[F];
  uint8_t opus[TERN_OPUS_MAX_PACKET];
  tern_tone_fill(&c->tone, pcm, F);
  int n = tern_opus_encode(c->enc, pcm, F, opus, sizeof(opus));
  struct tern_rtp_writer w;
  tern_rtp_writer_init(&w, buf, cap, 111, c->seq++, c->ts, c->ssrc, false);
  c->ts += F;
  if (c->ext_level >= -1) {
    int lvl = c->ext_level == -1 ? frame_level(pcm) : c->ext_level;
    uint8_t b = (uint8_t)((lvl < 127 ? 0x80 : 0) | lvl);
    tern_rtp_writer_add_ext(&w, EXT_ID, &b, 1);
  }
  tern_rtp_writer_payload(&w, opus, n > 0 ? (size_t)n : 0);
  int len = tern_rtp_writer_finish(&w);
  return len > 0 ? (size_t)len : 0;
}

static void client_push(struct client *c) {
  uint8_t pkt[1500];
  size_t n = client_packet(c, pkt, sizeof(pkt));
  CHECK_EQ_INT(tern_mixer_push_rtp(c->p, pkt, n), 0);
}

static void on_emit(void *user, const uint8_t *opus, size_t len, uint32_t step, void *cb_user) {
  (void)cb_user;
  struct client *c = user;
  CHECK_EQ_INT(step, F);
  c->emits++;
  c->last_ptr = opus;
  c->last_len = len;
  memcpy(c->last, opus, len);
  if (c->out && c->out_len + F <= c->out_cap) {
    int n = tern_opus_decode(c->dec, opus, len, c->out + c->out_len, F);
    CHECK_EQ_INT(n, F);
    c->out_len += F;
  }
}

/* One tick of real time: every sending client's packet, then the tick. */
static void step(struct tern_mixer *m, struct client *cs, int n) {
  for (int i = 0; i < n; i++)
    if (cs[i].p && cs[i].sends)
      client_push(&cs[i]);
  CHECK_EQ_INT(tern_mixer_tick(m, on_emit, NULL), 0);
}

/* Amplitude of frequency f in x (full scale = 32767 for amplitude 1).
 * Windows are whole 20 ms frames and frequencies multiples of 50 Hz, so
 * every tone has a whole number of cycles and the bins do not leak. */
static double tone_amp(const int16_t *x, size_t n, double f) {
  double w = 2.0 * M_PI * f / 48000.0, c = 2.0 * cos(w), s1 = 0, s2 = 0;
  for (size_t i = 0; i < n; i++) {
    double s0 = x[i] + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  double p = s1 * s1 + s2 * s2 - c * s1 * s2;
  return 2.0 * sqrt(p > 0 ? p : 0) / (double)n;
}

static struct tern_mixer *mixer_new(bool per_participant) {
  struct tern_mixer_config cfg;
  tern_mixer_config_default(&cfg);
  cfg.encoder_per_participant = per_participant;
  return tern_mixer_create(&cfg);
}

struct tap_rec {
  int16_t shared[F];
  int shared_calls;
  double peak;
};

static void on_tap(void *user, const int16_t *pcm, int samples, void *tap_user) {
  struct tap_rec *r = tap_user;
  CHECK_EQ_INT(samples, F);
  if (user)
    return;
  memcpy(r->shared, pcm, sizeof(r->shared));
  r->shared_calls++;
}

/* ---- tests -------------------------------------------------------------- */

/* 3 speakers with distinct tones + 1 silent client: each speaker hears the
 * two others and not itself; the silent one hears all three. With and
 * without the audio-level extension. */
static void test_mix_minus_tones(void) {
  const double freqs[] = {400, 650, 1100, 0};
  for (int ext = 0; ext < 2; ext++) {
    struct tern_mixer *m = mixer_new(false);
    REQUIRE(m);
    struct client cs[4];
    for (int i = 0; i < 4; i++) {
      client_init(&cs[i], freqs[i] > 0 ? freqs[i] : 300, freqs[i] > 0 ? 0.2 : 0.0, 60);
      cs[i].p = tern_mixer_add(m, &cs[i]);
      REQUIRE(cs[i].p);
      if (ext) {
        cs[i].ext_level = -1;
        CHECK_EQ_INT(tern_mixer_participant_set_audio_level_ext_id(cs[i].p, EXT_ID), 0);
      }
    }
    for (int t = 0; t < 60; t++)
      step(m, cs, 4);
    const double full = 0.2 * 32767;
    for (int i = 0; i < 4; i++) {
      REQUIRE(cs[i].out_len == 60 * F);
      const int16_t *x = cs[i].out + 40 * F; /* the last 400 ms */
      size_t n = 20 * F;
      for (int j = 0; j < 3; j++) {
        double a = tone_amp(x, n, freqs[j]);
        if (i == j) {
          if (!(a < 0.01 * full))
            fprintf(stderr, "ext %d: client %d hears itself: %.0f\n", ext, i, a);
          CHECK(a < 0.01 * full);
        } else {
          if (!(a > 0.7 * full && a < 1.3 * full))
            fprintf(stderr, "ext %d: client %d hears %g Hz at %.0f\n", ext, i, freqs[j], a);
          CHECK(a > 0.7 * full && a < 1.3 * full);
        }
      }
      CHECK_EQ_INT(tern_mixer_participant_speaking(cs[i].p), i < 3);
    }
    CHECK(tern_mixer_participant_level(cs[0].p) < 20);
    CHECK_EQ_INT(tern_mixer_participant_level(cs[3].p), 127);
    const struct tern_mixer_tick_stats *st = tern_mixer_last_tick(m);
    CHECK_EQ_INT(st->speakers, 3);
    CHECK_EQ_INT(st->listeners, 1);
    CHECK_EQ_INT(st->encodes, 4);
    /* with the extension the silent client is not even decoded */
    CHECK_EQ_INT(st->decodes, ext ? 3 : 4);
    CHECK_EQ_INT(tern_mixer_totals(m)->concealed, 0);
    tern_mixer_destroy(m);
    for (int i = 0; i < 4; i++)
      client_fini(&cs[i]);
  }
}

/* 3 speakers + 7 listeners: 4 encodes per tick; the 7 listeners get the same
 * pointer and bytes; per-participant mode needs 10 encodes. */
static void test_shared_encode(void) {
  for (int mode = 0; mode < 2; mode++) {
    struct tern_mixer *m = mixer_new(mode == 1);
    REQUIRE(m);
    struct client cs[10];
    for (int i = 0; i < 10; i++) {
      client_init(&cs[i], 400 + 250 * i, i < 3 ? 0.2 : 0.0, 0);
      cs[i].sends = i < 3 || i % 2 == 0; /* some listeners send silence, some nothing */
      cs[i].ext_level = -1;
      cs[i].p = tern_mixer_add(m, &cs[i]);
      REQUIRE(cs[i].p);
      tern_mixer_participant_set_audio_level_ext_id(cs[i].p, EXT_ID);
    }
    for (int t = 0; t < 20; t++) {
      step(m, cs, 10);
      const struct tern_mixer_tick_stats *st = tern_mixer_last_tick(m);
      CHECK_EQ_INT(st->participants, 10);
      CHECK_EQ_INT(st->emits, 10);
      CHECK_EQ_INT(st->speakers, 3);
      CHECK_EQ_INT(st->listeners, 7);
      CHECK_EQ_INT(st->encodes, mode ? 10 : 4);
      CHECK_EQ_INT(st->decodes, 3);
      if (mode == 0) {
        for (int i = 4; i < 10; i++) {
          CHECK(cs[i].last_ptr == cs[3].last_ptr);
          CHECK(cs[i].last_len == cs[3].last_len &&
                memcmp(cs[i].last, cs[3].last, cs[3].last_len) == 0);
        }
        for (int i = 0; i < 3; i++)
          CHECK(cs[i].last_ptr != cs[3].last_ptr);
      } else {
        for (int i = 4; i < 10; i++)
          CHECK(cs[i].last_ptr != cs[3].last_ptr);
      }
    }
    CHECK_EQ_INT(tern_mixer_totals(m)->encoders_created, mode ? 10 : 3);
    tern_mixer_destroy(m);
    for (int i = 0; i < 10; i++)
      client_fini(&cs[i]);
  }
}

/* The mixer relies on a libopus encoder state being one position-free
 * block: a byte copy continues exactly like the original, even after the
 * original is freed (ASan would see a pointer into it). */
static void test_opus_state_copy(void) {
  int size = opus_encoder_get_size(1);
  int err;
  OpusEncoder *a = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
  REQUIRE(a && size > 0);
  opus_encoder_ctl(a, OPUS_SET_INBAND_FEC(1));
  opus_encoder_ctl(a, OPUS_SET_PACKET_LOSS_PERC(5));
  OpusEncoder *ref = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
  opus_encoder_ctl(ref, OPUS_SET_INBAND_FEC(1));
  opus_encoder_ctl(ref, OPUS_SET_PACKET_LOSS_PERC(5));
  struct tern_tone t;
  tern_tone_init(&t, 48000, 1, 700, 0.3);
  int16_t pcm[F];
  uint8_t pa[1275], pb[1275];
  for (int i = 0; i < 20; i++) {
    tern_tone_fill(&t, pcm, F);
    CHECK(opus_encode(a, pcm, F, pa, sizeof(pa)) > 0);
    CHECK(opus_encode(ref, pcm, F, pb, sizeof(pb)) > 0);
  }
  OpusEncoder *b = malloc((size_t)size);
  memcpy(b, a, (size_t)size);
  opus_encoder_destroy(a);
  int same = 0;
  for (int i = 0; i < 30; i++) {
    tern_tone_set_frequency(&t, 700 + 20 * i);
    tern_tone_fill(&t, pcm, F);
    int na = opus_encode(ref, pcm, F, pa, sizeof(pa));
    int nb = opus_encode(b, pcm, F, pb, sizeof(pb));
    same += na > 0 && na == nb && memcmp(pa, pb, (size_t)na) == 0;
  }
  CHECK_EQ_INT(same, 30);
  free(b);
  opus_encoder_destroy(ref);
}

/* A listener turning speaker continues from the shared encoder's state:
 * when its own signal is digital silence (its level says "speaking"), its
 * mix − own equals the mix, so its first own packet must be byte-identical
 * to the shared one. A fresh encoder would differ. */
static void test_listener_to_speaker_handover(void) {
  struct tern_mixer *m = mixer_new(false);
  REQUIRE(m);
  struct client cs[3];
  client_init(&cs[0], 650, 0.2, 0); /* speaker */
  client_init(&cs[1], 300, 0.0, 0); /* becomes a "speaker" by its level only */
  client_init(&cs[2], 300, 0.0, 0); /* listener throughout */
  for (int i = 0; i < 3; i++) {
    cs[i].ext_level = i == 1 ? 127 : -1;
    cs[i].p = tern_mixer_add(m, &cs[i]);
    tern_mixer_participant_set_audio_level_ext_id(cs[i].p, EXT_ID);
  }
  for (int t = 0; t < 10; t++)
    step(m, cs, 3);
  CHECK(cs[1].last_ptr == cs[2].last_ptr);
  cs[1].ext_level = 10;
  step(m, cs, 3);
  CHECK(tern_mixer_participant_speaking(cs[1].p));
  CHECK(cs[1].last_ptr != cs[2].last_ptr); /* its own encoder now */
  CHECK(cs[1].last_len == cs[2].last_len &&
        memcmp(cs[1].last, cs[2].last, cs[2].last_len) == 0);
  CHECK_EQ_INT(tern_mixer_last_tick(m)->encodes, 3);
  /* still identical a few frames on: same state, same input */
  for (int t = 0; t < 5; t++)
    step(m, cs, 3);
  CHECK(cs[1].last_len == cs[2].last_len &&
        memcmp(cs[1].last, cs[2].last, cs[2].last_len) == 0);
  /* back to listening after the hangover; the encoder is kept a while */
  cs[1].ext_level = 127;
  for (int t = 0; t < 20; t++)
    step(m, cs, 3);
  CHECK(!tern_mixer_participant_speaking(cs[1].p));
  CHECK(cs[1].last_ptr == cs[2].last_ptr);
  CHECK_EQ_INT(tern_mixer_totals(m)->encoders_created, 2);
  cs[1].ext_level = 10;
  step(m, cs, 3);
  CHECK_EQ_INT(tern_mixer_totals(m)->encoders_created, 2); /* reused */
  CHECK(memcmp(cs[1].last, cs[2].last, cs[2].last_len) == 0);
  tern_mixer_destroy(m);
  for (int i = 0; i < 3; i++)
    client_fini(&cs[i]);
}

/* Limiter alone: 10 loud sines summed in 32 bits never wrap, never flip
 * sign, stay ≤ 32767, and a smooth gain keeps a loud sine undistorted
 * (a hard clip would put ~-10 dB into the 3rd harmonic). */
static void test_limiter(void) {
  struct tern_mixer_limiter l;
  tern_mixer_limiter_init(&l);
  struct tern_tone t[10];
  for (int i = 0; i < 10; i++)
    tern_tone_init(&t[i], 48000, 1, 200 + 150 * i, 0.9);
  int32_t in[F];
  int16_t out[F], one[F];
  int flips = 0, over = 0, peak = 0;
  for (int f = 0; f < 50; f++) {
    memset(in, 0, sizeof(in));
    for (int i = 0; i < 10; i++) {
      tern_tone_fill(&t[i], one, F);
      for (int k = 0; k < F; k++)
        in[k] += one[k];
    }
    tern_mixer_limit(&l, in, out, F);
    for (int k = 0; k < F; k++) {
      if ((in[k] > 0 && out[k] < 0) || (in[k] < 0 && out[k] > 0))
        flips++;
      if (out[k] == INT16_MIN) /* the limiter is symmetric: ±32767 at most */
        over++;
      if (f > 0 && abs(out[k]) > peak)
        peak = abs(out[k]);
    }
  }
  CHECK_EQ_INT(flips, 0);
  CHECK_EQ_INT(over, 0);
  CHECK(peak > 25000); /* the gain adapts, it does not overshoot downwards */

  /* 10 in-phase copies of one sine = a sine at 9x full scale */
  tern_mixer_limiter_init(&l);
  struct tern_tone s;
  tern_tone_init(&s, 48000, 1, 400, 0.9);
  int16_t last[10 * F];
  for (int f = 0; f < 30; f++) {
    tern_tone_fill(&s, one, F);
    for (int k = 0; k < F; k++)
      in[k] = 10 * one[k];
    tern_mixer_limit(&l, in, out, F);
    if (f >= 20)
      memcpy(last + (f - 20) * F, out, sizeof(out));
  }
  double fund = tone_amp(last, 10 * F, 400), h3 = tone_amp(last, 10 * F, 1200);
  CHECK(fund > 25000);
  CHECK(h3 < fund * 0.001); /* < -60 dB: a gain, not a clipper */

  /* quiet input passes bit-exact */
  tern_mixer_limiter_init(&l);
  for (int k = 0; k < F; k++)
    in[k] = (k * 37) % 20001 - 10000;
  tern_mixer_limit(&l, in, out, F);
  int diff = 0;
  for (int k = 0; k < F; k++)
    diff += out[k] != in[k];
  CHECK_EQ_INT(diff, 0);
}

/* 10 loud speakers in phase + 1 listener, through the whole mixer: the mix
 * is 9–10x full scale; the listener hears a clean loud tone. */
static void test_clipping_in_mixer(void) {
  struct tern_mixer *m = mixer_new(false);
  REQUIRE(m);
  struct tap_rec rec = {0};
  tern_mixer_set_pcm_tap(m, on_tap, &rec);
  struct client cs[11];
  for (int i = 0; i < 11; i++) {
    client_init(&cs[i], 400, i < 10 ? 0.9 : 0.0, 40);
    cs[i].p = tern_mixer_add(m, &cs[i]);
  }
  for (int t = 0; t < 40; t++)
    step(m, cs, 11);
  CHECK_EQ_INT(tern_mixer_last_tick(m)->speakers, 10);
  CHECK_EQ_INT(rec.shared_calls, 40);
  double fund = tone_amp(rec.shared, F, 400), h3 = tone_amp(rec.shared, F, 1200);
  CHECK(fund > 25000);
  CHECK(h3 < fund * 0.01);
  const int16_t *x = cs[10].out + 20 * F;
  fund = tone_amp(x, 20 * F, 400);
  h3 = tone_amp(x, 20 * F, 1200);
  CHECK(fund > 20000);
  CHECK(h3 < fund * 0.03);
  /* speakers hear the other nine, limited the same way */
  fund = tone_amp(cs[0].out + 20 * F, 20 * F, 400);
  CHECK(fund > 20000);
  tern_mixer_destroy(m);
  for (int i = 0; i < 11; i++)
    client_fini(&cs[i]);
}

/* Loss: what the mixer plays stays continuous (a dropped frame would be
 * exact silence in the mix). mode 0: a CELT sender, packets just in time: a
 * loss is an underrun concealed by PLC. mode 1: a browser-like sender (SILK /
 * hybrid with in-band FEC) one frame ahead: the loss is seen early and
 * rebuilt from the next packet (FEC where the sender had the bits for it).
 * Opus' own concealment quality differs by mode, hence the floors. */
static void test_loss_concealed(void) {
  for (int mode = 0; mode < 2; mode++) {
    struct tern_mixer *m = mixer_new(false);
    REQUIRE(m);
    struct tap_rec rec = {0};
    tern_mixer_set_pcm_tap(m, on_tap, &rec);
    struct client a, b;
    client_init(&a, 400, 0.3, 0);
    client_init(&b, 300, 0.0, 100);
    tern_opus_enc_destroy(a.enc);
    a.enc = tern_opus_enc_create_config(&(struct tern_opus_enc_config){
        .channels = 1, .bitrate = mode ? 32000 : 64000, .complexity = 5,
        .application = mode ? TERN_OPUS_APP_VOIP : TERN_OPUS_APP_AUDIO,
        .inband_fec = mode == 1, .loss_percent = mode ? 10 : 0});
    REQUIRE(a.enc);
    a.p = tern_mixer_add(m, &a);
    b.p = tern_mixer_add(m, &b);
    uint8_t pkt[1500];
    size_t len;
    if (mode) {
      len = client_packet(&a, pkt, sizeof(pkt));
      tern_mixer_push_rtp(a.p, pkt, len);
    }
    const double full = 0.3 * 32767;
    int lost = 0;
    double mn = 1e9;
    for (int t = 0; t < 100; t++) {
      len = client_packet(&a, pkt, sizeof(pkt));
      /* every 10th packet after warm-up, and (CELT) two in a row at 50/51:
       * SILK's concealment fades out fast over consecutive losses */
      bool lose = t > 20 && (t % 10 == 5 || (mode == 0 && (t == 50 || t == 51)));
      if (lose)
        lost++;
      else
        CHECK_EQ_INT(tern_mixer_push_rtp(a.p, pkt, len), 0);
      CHECK_EQ_INT(tern_mixer_tick(m, on_emit, NULL), 0);
      double amp = tone_amp(rec.shared, F, 400);
      if (t >= 20 && amp < mn)
        mn = amp;
      if (t >= 20 && amp < (mode ? 0.1 : 0.6) * full)
        fprintf(stderr, "mode %d tick %d: the mix fell to %.0f of %.0f\n", mode, t, amp, full);
    }
    CHECK_EQ_INT(b.emits, 100);
    CHECK(tern_mixer_participant_speaking(a.p));
    const struct tern_mixer_totals *tt = tern_mixer_totals(m);
    CHECK_EQ_INT(tt->concealed, lost);
    CHECK_EQ_INT(tt->late, 0);
    CHECK(mn > (mode ? 0.1 : 0.6) * full);
    /* the listener's decoded audio never drops out either */
    double bmn = 1e9;
    for (int i = 20; i < 100; i++) {
      double x = tone_amp(b.out + (size_t)i * F, F, 400);
      bmn = x < bmn ? x : bmn;
    }
    CHECK(bmn > (mode ? 0.1 : 0.5) * full);
    tern_mixer_destroy(m);
    client_fini(&a);
    client_fini(&b);
  }
}

/* Reordered, duplicated and late packets. */
static void test_reorder_dup_late(void) {
  struct tern_mixer *m = mixer_new(false);
  REQUIRE(m);
  struct client a, b;
  client_init(&a, 400, 0.3, 0);
  client_init(&b, 300, 0.0, 60);
  a.p = tern_mixer_add(m, &a);
  b.p = tern_mixer_add(m, &b);
  uint8_t p1[1500], p2[1500], old[1500];
  size_t n1, n2, nold = 0;
  for (int t = 0; t < 10; t++) {
    n1 = client_packet(&a, p1, sizeof(p1));
    if (t == 2) {
      memcpy(old, p1, n1);
      nold = n1;
    }
    CHECK_EQ_INT(tern_mixer_push_rtp(a.p, p1, n1), 0);
    tern_mixer_tick(m, on_emit, NULL);
  }
  /* the next two arrive swapped, with one packet of slack: both play */
  n1 = client_packet(&a, p1, sizeof(p1));
  n2 = client_packet(&a, p2, sizeof(p2));
  CHECK_EQ_INT(tern_mixer_push_rtp(a.p, p2, n2), 0);
  CHECK_EQ_INT(tern_mixer_push_rtp(a.p, p1, n1), 0);
  CHECK_EQ_INT(tern_mixer_push_rtp(a.p, p1, n1), -EALREADY);
  CHECK_EQ_INT(tern_mixer_push_rtp(a.p, old, nold), -ESTALE);
  for (int t = 0; t < 40; t++) {
    tern_mixer_tick(m, on_emit, NULL);
    n1 = client_packet(&a, p1, sizeof(p1));
    CHECK_EQ_INT(tern_mixer_push_rtp(a.p, p1, n1), 0);
  }
  const struct tern_mixer_totals *tt = tern_mixer_totals(m);
  CHECK_EQ_INT(tt->concealed, 0);
  CHECK_EQ_INT(tt->duplicates, 1);
  CHECK_EQ_INT(tt->late, 1);
  CHECK_EQ_INT(tt->resyncs, 0);
  /* held until played; once played it is late */
  CHECK_EQ_INT(tern_mixer_push_rtp(a.p, p1, n1), -EALREADY);
  tern_mixer_tick(m, on_emit, NULL);
  tern_mixer_tick(m, on_emit, NULL);
  CHECK_EQ_INT(tern_mixer_push_rtp(a.p, p1, n1), -ESTALE);
  /* a new SSRC restarts the buffer */
  a.ssrc ^= 0xffff;
  n1 = client_packet(&a, p1, sizeof(p1));
  CHECK_EQ_INT(tern_mixer_push_rtp(a.p, p1, n1), 0);
  CHECK_EQ_INT(tt->resyncs, 1);
  tern_mixer_tick(m, on_emit, NULL);
  CHECK(tone_amp(b.out + (b.out_len - 10 * F), 10 * F, 400) > 0.7 * 0.3 * 32767);
  /* malformed input */
  CHECK_EQ_INT(tern_mixer_push_rtp(a.p, p1, 5), -EINVAL);
  uint8_t hdr_only[12];
  memcpy(hdr_only, p1, 12);
  hdr_only[0] &= (uint8_t)~0x10; /* no extension */
  CHECK_EQ_INT(tern_mixer_push_rtp(a.p, hdr_only, 12), -EPROTO);
  CHECK_EQ_INT(tt->malformed, 2);
  tern_mixer_destroy(m);
  client_fini(&a);
  client_fini(&b);
}

/* Leaving takes effect at the next tick: the leaver gets no more frames
 * and is gone from everyone's mix in that very frame. */
static void test_remove_next_tick(void) {
  struct tern_mixer *m = mixer_new(false);
  REQUIRE(m);
  struct tap_rec rec = {0};
  tern_mixer_set_pcm_tap(m, on_tap, &rec);
  struct client cs[4];
  const double fr[] = {400, 650, 1100, 300};
  for (int i = 0; i < 4; i++) {
    client_init(&cs[i], fr[i], i < 3 ? 0.2 : 0.0, 0);
    cs[i].p = tern_mixer_add(m, &cs[i]);
  }
  for (int t = 0; t < 10; t++)
    step(m, cs, 4);
  CHECK(tone_amp(rec.shared, F, 650) > 0.7 * 0.2 * 32767);
  int emits_b = cs[1].emits;
  tern_mixer_remove(m, cs[1].p);
  cs[1].p = NULL;
  CHECK_EQ_INT(tern_mixer_count(m), 3);
  step(m, cs, 4);
  CHECK_EQ_INT(cs[1].emits, emits_b);
  CHECK(tone_amp(rec.shared, F, 650) < 0.01 * 0.2 * 32767);
  CHECK(tone_amp(rec.shared, F, 400) > 0.7 * 0.2 * 32767);
  CHECK_EQ_INT(tern_mixer_last_tick(m)->participants, 3);
  /* join and leave between two ticks: never heard of */
  struct client x;
  client_init(&x, 900, 0.2, 0);
  x.p = tern_mixer_add(m, &x);
  REQUIRE(x.p);
  client_push(&x);
  tern_mixer_remove(m, x.p);
  step(m, cs, 4);
  CHECK_EQ_INT(x.emits, 0);
  CHECK(tone_amp(rec.shared, F, 900) < 0.01 * 0.2 * 32767);
  client_fini(&x);
  tern_mixer_destroy(m);
  for (int i = 0; i < 4; i++)
    client_fini(&cs[i]);
}

/* What emit may do: remove others (no emit for them even later in this
 * tick), add (first emit next tick), tick (-EBUSY), destroy (deferred). */
struct reent {
  struct tern_mixer *m;
  struct client *cs;
  int n;
  int action; /* 0 remove others, 1 add, 2 destroy */
  struct client *added;
  int calls;
};

static void on_emit_reent(void *user, const uint8_t *opus, size_t len, uint32_t step_,
                          void *cb_user) {
  struct reent *r = cb_user;
  on_emit(user, opus, len, step_, NULL);
  if (r->calls++)
    return;
  CHECK_EQ_INT(tern_mixer_tick(r->m, on_emit, NULL), -EBUSY);
  if (r->action == 0) {
    for (int i = 0; i < r->n; i++)
      if (&r->cs[i] != user) {
        tern_mixer_remove(r->m, r->cs[i].p);
        r->cs[i].p = NULL;
      }
  } else if (r->action == 1) {
    r->added->p = tern_mixer_add(r->m, r->added);
  } else {
    tern_mixer_destroy(r->m);
  }
}

static void test_reentrant_emit(void) {
  for (int action = 0; action < 3; action++) {
    struct tern_mixer *m = mixer_new(false);
    REQUIRE(m);
    struct client cs[4], extra;
    for (int i = 0; i < 4; i++) {
      client_init(&cs[i], 400 + 250 * i, 0.2, 0);
      cs[i].p = tern_mixer_add(m, &cs[i]);
    }
    client_init(&extra, 1500, 0.0, 0);
    step(m, cs, 4);
    struct reent r = {.m = m, .cs = cs, .n = 4, .action = action, .added = &extra};
    for (int i = 0; i < 4; i++)
      if (cs[i].p)
        client_push(&cs[i]);
    CHECK_EQ_INT(tern_mixer_tick(m, on_emit_reent, &r), 0);
    CHECK_EQ_INT(r.calls, action == 1 ? 4 : 1);
    if (action == 0) {
      CHECK_EQ_INT(tern_mixer_count(m), 1);
      step(m, cs, 4);
      CHECK_EQ_INT(tern_mixer_last_tick(m)->emits, 1);
    } else if (action == 1) {
      REQUIRE(extra.p);
      CHECK_EQ_INT(extra.emits, 0);
      step(m, cs, 4);
      CHECK_EQ_INT(extra.emits, 1);
    }
    if (action != 2)
      tern_mixer_destroy(m);
    for (int i = 0; i < 4; i++)
      client_fini(&cs[i]);
    client_fini(&extra);
  }
}

/* Voice activity: the extension's level rules when present (a loud signal
 * marked silent is neither mixed nor decoded); from energy, a speaker does
 * not flap in short pauses and stops after the hangover. */
static void test_vad(void) {
  struct tern_mixer *m = mixer_new(false);
  REQUIRE(m);
  struct tap_rec rec = {0};
  tern_mixer_set_pcm_tap(m, on_tap, &rec);
  struct client cs[3];
  client_init(&cs[0], 400, 0.3, 0); /* loud, but its level says silence */
  client_init(&cs[1], 650, 0.3, 0); /* energy VAD */
  client_init(&cs[2], 300, 0.0, 0);
  cs[0].ext_level = 127;
  for (int i = 0; i < 3; i++)
    cs[i].p = tern_mixer_add(m, &cs[i]);
  tern_mixer_participant_set_audio_level_ext_id(cs[0].p, EXT_ID);
  for (int t = 0; t < 10; t++)
    step(m, cs, 3);
  CHECK(!tern_mixer_participant_speaking(cs[0].p));
  CHECK(tern_mixer_participant_speaking(cs[1].p));
  CHECK_EQ_INT(tern_mixer_last_tick(m)->decodes, 2); /* cs[1] and silent cs[2] */
  CHECK(tone_amp(rec.shared, F, 400) < 0.01 * 0.3 * 32767);
  /* pauses shorter than the hangover keep cs[1] speaking */
  int flaps = 0;
  for (int t = 0; t < 35; t++) { /* 5 loud, 5 quiet, ..., ending loud */
    tern_tone_set_amplitude(&cs[1].tone, (t / 5) % 2 ? 0.0 : 0.3);
    step(m, cs, 3);
    flaps += !tern_mixer_participant_speaking(cs[1].p);
  }
  CHECK_EQ_INT(flaps, 0);
  tern_tone_set_amplitude(&cs[1].tone, 0.0);
  int off_after = -1;
  for (int t = 0; t < 30 && off_after < 0; t++) {
    step(m, cs, 3);
    if (!tern_mixer_participant_speaking(cs[1].p))
      off_after = t;
  }
  /* hangover of 15 quiet frames (+ the ramp-down frame and codec tail) */
  if (!(off_after >= 15 && off_after <= 19))
    fprintf(stderr, "speaking stopped after %d quiet frames\n", off_after);
  CHECK(off_after >= 15 && off_after <= 19);
  tern_mixer_destroy(m);
  for (int i = 0; i < 3; i++)
    client_fini(&cs[i]);
}

/* First sample at or after `from` whose magnitude exceeds thr. */
static long onset(const int16_t *x, size_t n, size_t from, int thr) {
  for (size_t i = from; i < n; i++)
    if (abs(x[i]) > thr)
      return (long)i;
  return -1;
}

/* Latency of a tone burst from a client's microphone to another client's
 * ear, minus what the sender's own encode/decode costs. Packets arrive just
 * before the tick (the real-life wait for the tick adds 0–20 ms). At frame
 * 30 one packet comes a frame late: the buffer grows by one frame, and gives
 * the frame back after a second without needing it. */
static void test_latency(void) {
  struct tern_mixer *m = mixer_new(false);
  REQUIRE(m);
  struct client a, b;
  client_init(&a, 1000, 0.0, 0);
  client_init(&b, 300, 0.0, 200);
  a.p = tern_mixer_add(m, &a);
  b.p = tern_mixer_add(m, &b);
  /* reference: the same bursts through one encode/decode only */
  struct tern_opus_enc *renc = tern_opus_enc_create(1, 48000, 5);
  struct tern_opus_dec *rdec = tern_opus_dec_create(1);
  struct tern_tone rt;
  tern_tone_init(&rt, 48000, 1, 1000, 0.0);
  int16_t *ref = calloc(200 * F, sizeof(int16_t));
  uint8_t pkt[1500], held[1500];
  size_t held_len = 0;
  const int bursts[] = {20, 45, 160};
  for (int t = 0; t < 200; t++) {
    bool on = false;
    for (int k = 0; k < 3; k++)
      on |= t >= bursts[k] && t < bursts[k] + 3;
    tern_tone_set_amplitude(&a.tone, on ? 0.5 : 0.0);
    tern_tone_set_amplitude(&rt, on ? 0.5 : 0.0);
    int16_t pcm[F];
    uint8_t op[1275];
    tern_tone_fill(&rt, pcm, F);
    int n = tern_opus_encode(renc, pcm, F, op, sizeof(op));
    tern_opus_decode(rdec, op, (size_t)n, ref + (size_t)t * F, F);
    size_t len = client_packet(&a, pkt, sizeof(pkt));
    if (t == 30) { /* this one is a frame late */
      memcpy(held, pkt, len);
      held_len = len;
    } else {
      if (held_len) {
        CHECK_EQ_INT(tern_mixer_push_rtp(a.p, held, held_len), 0);
        held_len = 0;
      }
      CHECK_EQ_INT(tern_mixer_push_rtp(a.p, pkt, len), 0);
    }
    tern_mixer_tick(m, on_emit, NULL);
  }
  long d[3];
  for (int k = 0; k < 3; k++) {
    size_t from = (size_t)(bursts[k] - 2) * F;
    long o = onset(b.out, b.out_len, from, 8000), r = onset(ref, 200 * F, from, 8000);
    d[k] = o >= 0 && r >= 0 ? o - r : -99999;
  }
  fprintf(stderr, "latency added by the mixer (samples at 48 kHz): %ld, after a late "
                  "packet %ld, a second later %ld; trimmed %llu\n",
          d[0], d[1], d[2], (unsigned long long)tern_mixer_totals(m)->trimmed);
  /* one re-encode: 6.5 ms of look-ahead = 312 samples, nothing else */
  CHECK(d[0] >= 250 && d[0] <= 400);
  CHECK(d[1] >= d[0] + F - 30 && d[1] <= d[0] + F + 30);
  CHECK(d[2] >= d[0] - 30 && d[2] <= d[0] + 30);
  CHECK_EQ_INT(tern_mixer_totals(m)->trimmed, 1);
  CHECK_EQ_INT(tern_mixer_totals(m)->late, 0);
  free(ref);
  tern_opus_enc_destroy(renc);
  tern_opus_dec_destroy(rdec);
  tern_mixer_destroy(m);
  client_fini(&a);
  client_fini(&b);
}

/* A lone participant still gets a frame every tick (its RTP timeline must
 * not stall), silence, encoded by the shared encoder since nobody speaks to
 * it... unless it speaks itself: then silence from its own encoder. A
 * participant that stops sending goes idle and costs no decode. */
static void test_alone_and_idle(void) {
  struct tern_mixer *m = mixer_new(false);
  REQUIRE(m);
  struct client a;
  client_init(&a, 400, 0.3, 30);
  a.p = tern_mixer_add(m, &a);
  for (int t = 0; t < 10; t++)
    step(m, &a, 1);
  CHECK_EQ_INT(a.emits, 10);
  CHECK(tone_amp(a.out + 5 * F, 5 * F, 400) < 1.0);
  CHECK(tern_mixer_participant_speaking(a.p));
  a.sends = false;
  for (int t = 0; t < 15; t++)
    step(m, &a, 1);
  CHECK_EQ_INT(a.emits, 25);
  CHECK(!tern_mixer_participant_speaking(a.p));
  CHECK_EQ_INT(tern_mixer_last_tick(m)->decodes, 0);
  CHECK_EQ_INT(tern_mixer_totals(m)->concealed, 10); /* idle_frames */
  CHECK(tern_mixer_create(&(struct tern_mixer_config){0}) == NULL);
  tern_mixer_destroy(m);
  client_fini(&a);
}

/* max_speakers: only the loudest are mixed; the others are still reported
 * speaking and hear the shared mix (which they are not in). */
static void test_max_speakers(void) {
  struct tern_mixer_config cfg;
  tern_mixer_config_default(&cfg);
  cfg.max_speakers = 2;
  struct tern_mixer *m = tern_mixer_create(&cfg);
  REQUIRE(m);
  struct client cs[5];
  const double fr[] = {400, 650, 900, 1150, 300}, amp[] = {0.1, 0.4, 0.2, 0.3, 0.0};
  for (int i = 0; i < 5; i++) {
    client_init(&cs[i], fr[i], amp[i], 30);
    cs[i].p = tern_mixer_add(m, &cs[i]);
  }
  for (int t = 0; t < 30; t++)
    step(m, cs, 5);
  const struct tern_mixer_tick_stats *st = tern_mixer_last_tick(m);
  CHECK_EQ_INT(st->speakers, 2);
  CHECK_EQ_INT(st->encodes, 3);
  for (int i = 0; i < 4; i++)
    CHECK(tern_mixer_participant_speaking(cs[i].p));
  CHECK(cs[0].last_ptr == cs[4].last_ptr && cs[2].last_ptr == cs[4].last_ptr);
  const int16_t *x = cs[4].out + 10 * F;
  CHECK(tone_amp(x, 20 * F, 650) > 0.7 * 0.4 * 32767);
  CHECK(tone_amp(x, 20 * F, 1150) > 0.7 * 0.3 * 32767);
  CHECK(tone_amp(x, 20 * F, 400) < 0.01 * 0.1 * 32767 + 30);
  CHECK(tone_amp(x, 20 * F, 900) < 0.01 * 0.2 * 32767 + 30);
  tern_mixer_destroy(m);
  for (int i = 0; i < 5; i++)
    client_fini(&cs[i]);
}

/* Garbage from a client: valid RTP headers around random payloads, random
 * sequence numbers and lengths, and plain random bytes. Nothing crashes
 * (ASan/UBSan), every tick still emits to everyone. */
static void test_garbage_input(void) {
  struct tern_mixer *m = mixer_new(false);
  REQUIRE(m);
  struct client a, b;
  client_init(&a, 400, 0.3, 0);
  client_init(&b, 300, 0.0, 0);
  a.p = tern_mixer_add(m, &a);
  b.p = tern_mixer_add(m, &b);
  tern_mixer_participant_set_audio_level_ext_id(a.p, EXT_ID);
  srand(7);
  uint8_t pkt[1600];
  for (int t = 0; t < 300; t++) {
    for (int k = 0; k < 4; k++) {
      size_t len = (size_t)(rand() % (int)sizeof(pkt));
      for (size_t i = 0; i < len; i++)
        pkt[i] = (uint8_t)rand();
      if (k < 3 && len >= 13) { /* plausible header, random everything else */
        pkt[0] = (uint8_t)(0x80 | (k == 1 ? 0x10 : 0) | (rand() % 2 ? 0x20 : 0));
        if (k == 2)
          tern_rtp_set_seq(pkt, (uint16_t)(t + rand() % 5));
      }
      tern_mixer_push_rtp(a.p, pkt, len);
    }
    if (t % 3 == 0) { /* real packets among the garbage: their fate may vary */
      size_t len = client_packet(&a, pkt, sizeof(pkt));
      tern_mixer_push_rtp(a.p, pkt, len);
    }
    CHECK_EQ_INT(tern_mixer_tick(m, on_emit, NULL), 0);
  }
  CHECK_EQ_INT(a.emits, 300);
  CHECK_EQ_INT(b.emits, 300);
  CHECK(tern_mixer_totals(m)->malformed > 0);
  tern_mixer_destroy(m);
  client_fini(&a);
  client_fini(&b);
}

/* ---- benchmark (TERN_MIXER_BENCH=1) ------------------------------------- */

static double cpu_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void nop_emit(void *u, const uint8_t *o, size_t l, uint32_t s, void *c) {
  (void)u, (void)o, (void)l, (void)s, (void)c;
}

/* `speakers` (≤ 3) talking + listeners sending silence; packets are
 * pre-encoded so only push + tick are timed. */
static void bench_one(int speakers, int listeners, bool per_participant, bool ext) {
  enum { WARM = 50, RUN = 250, PRE = 50 };
  int total = speakers + listeners;
  struct tern_mixer_config cfg;
  tern_mixer_config_default(&cfg);
  cfg.encoder_per_participant = per_participant;
  struct tern_mixer *m = tern_mixer_create(&cfg);
  struct tern_mixer_participant *ps[MAXC];
  static uint8_t pk[3][PRE][1500];
  static size_t pl[3][PRE];
  static uint8_t sil[1500];
  size_t sil_len;
  struct client c;
  for (int s = 0; s < 3; s++) {
    client_init(&c, 300 + 200 * s, 0.2, 0);
    c.ext_level = ext ? -1 : -2;
    for (int f = 0; f < PRE; f++)
      pl[s][f] = client_packet(&c, pk[s][f], sizeof(pk[s][f]));
    client_fini(&c);
  }
  client_init(&c, 300, 0.0, 0);
  c.ext_level = ext ? -1 : -2;
  sil_len = client_packet(&c, sil, sizeof(sil));
  client_fini(&c);
  for (int i = 0; i < total; i++) {
    ps[i] = tern_mixer_add(m, NULL);
    if (ext)
      tern_mixer_participant_set_audio_level_ext_id(ps[i], EXT_ID);
  }
  double used = 0;
  uint64_t enc0 = 0, dec0 = 0;
  for (int t = 0; t < WARM + RUN; t++) {
    if (t == WARM) {
      enc0 = tern_mixer_totals(m)->encodes;
      dec0 = tern_mixer_totals(m)->decodes;
    }
    double t0 = cpu_us();
    for (int i = 0; i < total; i++) {
      uint8_t *p = i < speakers ? pk[i][t % PRE] : sil;
      size_t l = i < speakers ? pl[i][t % PRE] : sil_len;
      /* same payloads over and over: renumber so they are new packets */
      tern_rtp_set_seq(p, (uint16_t)t);
      tern_rtp_set_ssrc(p, (uint32_t)i + 1);
      tern_mixer_push_rtp(ps[i], p, l);
    }
    tern_mixer_tick(m, nop_emit, NULL);
    if (t >= WARM)
      used += cpu_us() - t0;
  }
  const struct tern_mixer_totals *tt = tern_mixer_totals(m);
  double per_tick = used / RUN;
  printf("| %d + %d | %s | %s | %.2f | %.2f | %.0f | %.1f | %.0f |\n", speakers, listeners,
         per_participant ? "encoder each" : "shared", ext ? "level ext" : "energy",
         (double)(tt->encodes - enc0) / RUN, (double)(tt->decodes - dec0) / RUN, per_tick,
         per_tick / total, 20000.0 / per_tick * total);
  tern_mixer_destroy(m);
}

static void bench(void) {
  printf("| speakers + listeners | encoders | VAD from | encodes/tick | decodes/tick | "
         "µs CPU/tick | µs/participant | participants/core |\n"
         "|---|---|---|---|---|---|---|---|\n");
  const int ns[] = {10, 50, 100};
  for (int k = 0; k < 3; k++)
    for (int ext = 1; ext >= 0; ext--)
      for (int pp = 0; pp < 2; pp++)
        bench_one(3, ns[k], pp, ext);
  for (int pp = 0; pp < 2; pp++) /* a small conversation */
    bench_one(2, 2, pp, true);
}

int main(void) {
  RUN(test_mix_minus_tones);
  RUN(test_shared_encode);
  RUN(test_opus_state_copy);
  RUN(test_listener_to_speaker_handover);
  RUN(test_limiter);
  RUN(test_clipping_in_mixer);
  RUN(test_loss_concealed);
  RUN(test_reorder_dup_late);
  RUN(test_remove_next_tick);
  RUN(test_reentrant_emit);
  RUN(test_vad);
  RUN(test_latency);
  RUN(test_alone_and_idle);
  RUN(test_max_speakers);
  RUN(test_garbage_input);
  const char *b = getenv("TERN_MIXER_BENCH");
  if (b && *b == '1')
    bench();
  if (b && (*b == '2' || *b == '3')) /* one case, for valgrind --tool=callgrind */
    bench_one(3, 100, *b == '3', true);
  return TEST_RESULT();
}
