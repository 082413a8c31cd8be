/* test_pitch — YIN on pure tones 80–2000 Hz, harmonics, silence, noise,
 * streaming. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "media/pitch.h"
#include "media/tone.h"
#include "test.h"

#define SR 48000
#define N 4096

static uint32_t rng = 12345;
static uint32_t xorshift(void) {
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

static void sine(int16_t *s, int n, double hz, double amp, double phase) {
  for (int i = 0; i < n; i++)
    s[i] = (int16_t)lrint(amp * 32767 * sin(2 * M_PI * hz * i / SR + phase));
}

static void test_pure_tones(void) {
  struct tern_pitch *p = tern_pitch_create(NULL);
  REQUIRE(p);
  static int16_t s[N];
  const double freqs[] = {80,   82.4, 100,    150,  196,  220,    261.63, 440,  441.3, 523.25,
                          700,  880,  1000,   1234.5, 1250, 1500, 1760, 1900,  1999,  2000};
  double worst = 0;
  for (size_t i = 0; i < sizeof(freqs) / sizeof(freqs[0]); i++) {
    for (int ph = 0; ph < 3; ph++) {
      double amp = ph == 2 ? 0.02 : 0.5; /* also a quiet one, -34 dBFS */
      sine(s, N, freqs[i], amp, ph * 1.234);
      double f = tern_pitch_detect(p, s, N);
      double err = fabs(f - freqs[i]);
      if (err > worst)
        worst = err;
      if (err > 2)
        fprintf(stderr, "  %.2f Hz detected as %.3f\n", freqs[i], f);
      CHECK(err <= 2);
      CHECK(tern_pitch_confidence(p) > 0.9);
    }
  }
  fprintf(stderr, "  worst error over pure tones: %.4f Hz\n", worst);
  tern_pitch_destroy(p);
}

/* A rich waveform (fundamental + 6 harmonics, the 2nd the loudest) must give
 * the fundamental, not an octave. */
static void test_harmonics_no_octave_error(void) {
  struct tern_pitch *p = tern_pitch_create(NULL);
  REQUIRE(p);
  static int16_t s[N];
  const double f0s[] = {110, 196, 300, 440};
  for (size_t k = 0; k < 4; k++) {
    for (int i = 0; i < N; i++) {
      double v = 0;
      for (int h = 1; h <= 7; h++)
        v += (h == 2 ? 0.3 : 0.15 / h) * sin(2 * M_PI * f0s[k] * h * i / SR + h);
      s[i] = (int16_t)lrint(v * 32767);
    }
    double f = tern_pitch_detect(p, s, N);
    CHECK(fabs(f - f0s[k]) <= 2);
  }
  tern_pitch_destroy(p);
}

static void test_silence_and_noise(void) {
  struct tern_pitch *p = tern_pitch_create(NULL);
  REQUIRE(p);
  static int16_t s[N];
  memset(s, 0, sizeof(s));
  CHECK(tern_pitch_detect(p, s, N) == TERN_PITCH_SILENCE);
  sine(s, N, 440, 0.0002, 0); /* -74 dBFS: under the -60 dBFS default */
  CHECK(tern_pitch_detect(p, s, N) == TERN_PITCH_SILENCE);
  for (int trial = 0; trial < 5; trial++) {
    for (int i = 0; i < N; i++)
      s[i] = (int16_t)((int32_t)(xorshift() % 20001) - 10000);
    CHECK(tern_pitch_detect(p, s, N) == TERN_PITCH_NONE);
    CHECK(tern_pitch_confidence(p) < 0.5);
  }
  CHECK(tern_pitch_detect(p, s, 100) == TERN_PITCH_NONE); /* shorter than the window */
  tern_pitch_destroy(p);
}

/* Tone in noise (SNR 10 dB) still reads right. */
static void test_tone_in_noise(void) {
  struct tern_pitch *p = tern_pitch_create(NULL);
  REQUIRE(p);
  static int16_t s[N];
  for (int i = 0; i < N; i++) {
    double n = ((double)(xorshift() % 20001) - 10000) / 10000 * 0.3 * sqrt(3) / sqrt(10);
    s[i] = (int16_t)lrint((0.3 * sqrt(2) * sin(2 * M_PI * 330 * i / SR) + n) * 32767 / 1.5);
  }
  double f = tern_pitch_detect(p, s, N);
  CHECK(fabs(f - 330) <= 2);
  tern_pitch_destroy(p);
}

/* The pitch-detector app's shape: 20 ms frames pushed as decoded. */
static void test_streaming(void) {
  struct tern_pitch *p = tern_pitch_create(NULL);
  REQUIRE(p);
  CHECK_EQ_INT(tern_pitch_window(p), 2048);
  struct tern_tone t;
  REQUIRE(tern_tone_init(&t, SR, 1, 440, 0.5) == 0);
  int16_t frame[960];
  tern_tone_fill(&t, frame, 960);
  tern_pitch_push(p, frame, 960);
  CHECK(tern_pitch_detect_latest(p) == TERN_PITCH_NONE); /* not a full window yet */
  tern_tone_fill(&t, frame, 960);
  tern_pitch_push(p, frame, 960);
  tern_tone_fill(&t, frame, 960);
  tern_pitch_push(p, frame, 960);
  CHECK(fabs(tern_pitch_detect_latest(p) - 440) <= 2);
  REQUIRE(tern_tone_set_frequency(&t, 1250) == 0);
  for (int i = 0; i < 3; i++) {
    tern_tone_fill(&t, frame, 960);
    tern_pitch_push(p, frame, 960);
  }
  CHECK(fabs(tern_pitch_detect_latest(p) - 1250) <= 2);
  tern_pitch_destroy(p);
}

static void test_config(void) {
  struct tern_pitch_config c = {.window = 1024, .min_hz = 50}; /* 960-sample period needs 1922 */
  CHECK(tern_pitch_create(&c) == NULL);
  c = (struct tern_pitch_config){.min_hz = 500, .max_hz = 400};
  CHECK(tern_pitch_create(&c) == NULL);
  c = (struct tern_pitch_config){.sample_rate = 16000, .window = 1024, .min_hz = 60, .max_hz = 1000};
  struct tern_pitch *p = tern_pitch_create(&c);
  REQUIRE(p);
  static int16_t s[1024];
  for (int i = 0; i < 1024; i++)
    s[i] = (int16_t)lrint(10000 * sin(2 * M_PI * 300 * i / 16000.0));
  CHECK(fabs(tern_pitch_detect(p, s, 1024) - 300) <= 2);
  tern_pitch_destroy(p);
}

/* Not a pass/fail check: the cost figure quoted in docs/media.md. */
static void test_cost(void) {
  struct tern_pitch *p = tern_pitch_create(NULL);
  REQUIRE(p);
  static int16_t s[N];
  sine(s, N, 440, 0.5, 0);
  struct timespec a, b;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
  double sum = 0;
  for (int i = 0; i < 50; i++)
    sum += tern_pitch_detect(p, s, N);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
  CHECK(fabs(sum / 50 - 440) < 2);
  fprintf(stderr, "  detect, window 2048: %.0f us\n",
          ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 50 / 1e3);
  tern_pitch_destroy(p);
}

int main(void) {
  RUN(test_pure_tones);
  RUN(test_harmonics_no_octave_error);
  RUN(test_silence_and_noise);
  RUN(test_tone_in_noise);
  RUN(test_streaming);
  RUN(test_config);
  RUN(test_cost);
  return TEST_RESULT();
}
