/* pitch — fundamental frequency of a mono signal (YIN).
 *
 * The detector runs YIN (de Cheveigné & Kawahara, JASA 2002) on a window of
 * `window` samples (default 2048 = 42.7 ms at 48 kHz): the difference
 * function d(τ) = Σ (x[j] − x[j+τ])² over the first window − τmax samples,
 * its cumulative-mean normalisation d'(τ), the first dip of d' under a
 * threshold (then its local minimum), and parabolic interpolation of d at
 * that lag. One more step sharpens it: the k-th multiple of the period
 * (the largest that fits under τmax) is located and interpolated the same
 * way, and the period is that lag / k, which divides the interpolation
 * error by k. Pure tones 80–2000 Hz come out within ±0.1 Hz; see
 * tests/unit/test_pitch.c.
 *
 * Results: > 0 the frequency in Hz; TERN_PITCH_SILENCE (0) when the window's
 * RMS is under the silence level; TERN_PITCH_NONE (-1) when the signal has
 * no clear period in [min_hz, max_hz] (noise, chords, clicks) or on bad
 * arguments.
 *
 * Lifetime: create allocates every buffer; detect and push never allocate,
 * lock or log. One detector per stream, one thread at a time. Cost is
 * (window − τmax) × τmax: ≈ 0.13 ms CPU per detection with the defaults,
 * ≈ 0.4 ms with a 4096 window (docs/media.md); run it per frame at most.
 */
#ifndef TERN_MEDIA_PITCH_H
#define TERN_MEDIA_PITCH_H

#include <stdint.h>

#define TERN_PITCH_SILENCE 0.0
#define TERN_PITCH_NONE (-1.0)

struct tern_pitch_config {
  int sample_rate;     /* default 48000 */
  int window;          /* samples; must be >= 2 * sample_rate / min_hz; default 2048 */
  double min_hz;       /* default 75 */
  double max_hz;       /* default 2100 */
  double threshold;    /* YIN absolute threshold on d'; default 0.15 */
  double silence_dbfs; /* RMS under this is silence; default -60 dBFS */
};

struct tern_pitch;

/* cfg may be NULL (all defaults); zero fields take their default. NULL on
 * bad configuration or allocation failure. */
struct tern_pitch *tern_pitch_create(const struct tern_pitch_config *cfg);
void tern_pitch_destroy(struct tern_pitch *p);
int tern_pitch_window(const struct tern_pitch *p);

/* Detects on the last `window` samples of x (n >= window). */
double tern_pitch_detect(struct tern_pitch *p, const int16_t *x, int n);

/* Streaming: push decoded frames as they come (any size); detect_latest
 * runs on the most recent `window` samples pushed (TERN_PITCH_NONE until a
 * full window has been pushed). */
void tern_pitch_push(struct tern_pitch *p, const int16_t *x, int n);
double tern_pitch_detect_latest(struct tern_pitch *p);

/* How periodic the last detection's signal was: 1 − d'(τ), in [0, 1]
 * (≈ 1 for a pure tone, ≈ 0 for noise). */
double tern_pitch_confidence(const struct tern_pitch *p);

#endif
