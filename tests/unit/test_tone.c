/* test_tone — phase continuity, panning law, ramps, argument checks. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "media/tone.h"
#include "test.h"

#define SR 48000

static int max_step(const int16_t *s, int n, int stride) {
  int m = 0;
  for (int i = stride; i < n * stride; i += stride) {
    int d = abs(s[i] - s[i - stride]);
    if (d > m)
      m = d;
  }
  return m;
}

static void test_mono_level_and_frequency(void) {
  struct tern_tone t;
  REQUIRE(tern_tone_init(&t, SR, 1, 440, 0.5) == 0);
  static int16_t s[SR];
  tern_tone_fill(&t, s, SR);
  int peak = 0, crossings = 0;
  for (int i = 0; i < SR; i++) {
    if (abs(s[i]) > peak)
      peak = abs(s[i]);
    if (i && s[i - 1] < 0 && s[i] >= 0)
      crossings++;
  }
  CHECK(abs(peak - 16384) <= 2);
  CHECK(abs(crossings - 440) <= 1); /* one upward crossing per cycle over 1 s */
}

/* Filling in pieces must give exactly the same samples as one big fill. */
static void test_phase_kept_across_calls(void) {
  struct tern_tone a, b;
  REQUIRE(tern_tone_init(&a, SR, 1, 997.3, 0.8) == 0);
  REQUIRE(tern_tone_init(&b, SR, 1, 997.3, 0.8) == 0);
  static int16_t one[4800], parts[4800];
  tern_tone_fill(&a, one, 4800);
  for (int off = 0; off < 4800; off += 960)
    tern_tone_fill(&b, parts + off, 960);
  CHECK(memcmp(one, parts, sizeof(one)) == 0);
}

/* Changing frequency mid-stream: no sample step larger than the fastest
 * slope of the higher tone allows (a phase reset would jump by up to 2·A). */
static void test_frequency_change_no_click(void) {
  struct tern_tone t;
  REQUIRE(tern_tone_init(&t, SR, 1, 440, 0.9) == 0);
  static int16_t s[960 * 10];
  for (int f = 0; f < 10; f++) {
    /* change at arbitrary phases: 440 ↔ 1250, and an odd one */
    double hz = f % 3 == 0 ? 440 : f % 3 == 1 ? 1250 : 733.7;
    REQUIRE(tern_tone_set_frequency(&t, hz) == 0);
    tern_tone_fill(&t, s + f * 960, 960);
  }
  double bound = 2 * M_PI * 1250.0 / SR * 0.9 * 32767 + 2;
  CHECK(max_step(s, 960 * 10, 1) <= (int)bound);
  /* and the new frequency really is in effect: count crossings in frame 1 (1250 Hz) */
  int crossings = 0;
  for (int i = 961; i < 1920; i++)
    if (s[i - 1] < 0 && s[i] >= 0)
      crossings++;
  CHECK(crossings == 25 || crossings == 24 || crossings == 26); /* 1250 Hz × 20 ms = 25 */
}

static void channel_energy(const int16_t *s, int frames, double *l, double *r) {
  *l = *r = 0;
  for (int i = 0; i < frames; i++) {
    *l += (double)s[2 * i] * s[2 * i];
    *r += (double)s[2 * i + 1] * s[2 * i + 1];
  }
}

static void test_pan_ends_are_exact(void) {
  struct tern_tone t;
  static int16_t s[960 * 2];
  REQUIRE(tern_tone_init(&t, SR, 2, 440, 1.0) == 0);
  REQUIRE(tern_tone_set_pan(&t, 0) == 0);
  tern_tone_fill(&t, s, 960); /* ramp frame from centre */
  tern_tone_fill(&t, s, 960);
  int nonzero_r = 0, peak_l = 0;
  for (int i = 0; i < 960; i++) {
    nonzero_r += s[2 * i + 1] != 0;
    if (abs(s[2 * i]) > peak_l)
      peak_l = abs(s[2 * i]);
  }
  CHECK_EQ_INT(nonzero_r, 0);
  CHECK(peak_l >= 32760);

  REQUIRE(tern_tone_set_pan(&t, 100) == 0);
  tern_tone_fill(&t, s, 960);
  tern_tone_fill(&t, s, 960);
  int nonzero_l = 0;
  for (int i = 0; i < 960; i++)
    nonzero_l += s[2 * i] != 0;
  CHECK_EQ_INT(nonzero_l, 0);

  REQUIRE(tern_tone_set_pan(&t, 50) == 0);
  tern_tone_fill(&t, s, 960);
  tern_tone_fill(&t, s, 960);
  int differ = 0;
  for (int i = 0; i < 960; i++)
    differ += s[2 * i] != s[2 * i + 1];
  CHECK_EQ_INT(differ, 0);
  double l, r;
  channel_energy(s, 960, &l, &r);
  double full = 960 * 32767.0 * 32767.0 / 2; /* energy of a full-scale sine */
  CHECK(fabs(l / full - 0.5) < 0.01);          /* -3 dB each side */
}

/* Equal power: L² + R² is the same at every pan position. */
static void test_equal_power(void) {
  struct tern_tone t;
  static int16_t s[960 * 2];
  REQUIRE(tern_tone_init(&t, SR, 2, 1000, 0.5) == 0); /* 20 whole cycles per frame */
  double ref = -1;
  for (int pan = 0; pan <= 100; pan += 5) {
    REQUIRE(tern_tone_set_pan(&t, pan) == 0);
    tern_tone_fill(&t, s, 960);
    tern_tone_fill(&t, s, 960);
    double l, r;
    channel_energy(s, 960, &l, &r);
    if (ref < 0)
      ref = l + r;
    CHECK(fabs((l + r) / ref - 1) < 0.005);
    if (pan < 50)
      CHECK(l > r);
    if (pan > 50)
      CHECK(r > l);
  }
}

/* A pan jump from 0 to 100 is ramped over the next frame: no step in either
 * channel beyond what the sine itself does plus the ramp's slope. */
static void test_pan_and_amplitude_ramped(void) {
  struct tern_tone t;
  static int16_t s[960 * 2 * 3];
  REQUIRE(tern_tone_init(&t, SR, 2, 440, 1.0) == 0);
  REQUIRE(tern_tone_set_pan(&t, 0) == 0);
  tern_tone_fill(&t, s, 960);
  REQUIRE(tern_tone_set_pan(&t, 100) == 0);
  tern_tone_fill(&t, s + 960 * 2, 960);
  REQUIRE(tern_tone_set_amplitude(&t, 0.0) == 0);
  tern_tone_fill(&t, s + 960 * 4, 960);
  int bound = (int)(2 * M_PI * 440.0 / SR * 32767 + 32767.0 / 960 + 3);
  CHECK(max_step(s, 960 * 3, 2) <= bound);
  CHECK(max_step(s + 1, 960 * 3, 2) <= bound);
  /* the last sample of the fade is silent in both channels */
  CHECK_EQ_INT(s[960 * 6 - 2], 0);
  CHECK_EQ_INT(s[960 * 6 - 1], 0);
}

static void test_bad_arguments(void) {
  struct tern_tone t;
  CHECK_EQ_INT(tern_tone_init(&t, SR, 3, 440, 0.5), -EINVAL);
  CHECK_EQ_INT(tern_tone_init(&t, SR, 1, 0, 0.5), -EINVAL);
  CHECK_EQ_INT(tern_tone_init(&t, SR, 1, 24000, 0.5), -EINVAL);
  CHECK_EQ_INT(tern_tone_init(&t, SR, 1, NAN, 0.5), -EINVAL);
  REQUIRE(tern_tone_init(&t, SR, 2, 440, 0.5) == 0);
  CHECK_EQ_INT(tern_tone_set_pan(&t, -1), -EINVAL);
  CHECK_EQ_INT(tern_tone_set_pan(&t, 101), -EINVAL);
  CHECK_EQ_INT(tern_tone_set_amplitude(&t, 1.5), -EINVAL);
  CHECK_EQ_INT(tern_tone_set_frequency(&t, -5), -EINVAL);
  CHECK(t.freq == 440 && t.pan == 50 && t.amplitude == 0.5); /* unchanged */
}

int main(void) {
  RUN(test_mono_level_and_frequency);
  RUN(test_phase_kept_across_calls);
  RUN(test_frequency_change_no_click);
  RUN(test_pan_ends_are_exact);
  RUN(test_equal_power);
  RUN(test_pan_and_amplitude_ramped);
  RUN(test_bad_arguments);
  return TEST_RESULT();
}
