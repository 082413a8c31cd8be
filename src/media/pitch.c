/* pitch — YIN pitch detection; see pitch.h. */
#include "media/pitch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct tern_pitch {
  int sample_rate;
  int window;
  int tau_lo, tau_max; /* searched lags: [tau_lo, tau_max - 1]; d is known on [1, tau_max] */
  double threshold;
  double silence_rms; /* on the [-1, 1] scale */
  double confidence;
  float *x;    /* [window]: the window being analysed, scaled to [-1, 1] */
  float *hist; /* [window]: streaming history, newest sample last */
  int hist_fill;
  double *d;  /* [tau_max + 1]: difference function */
  double *dn; /* [tau_max + 1]: cumulative-mean-normalised difference */
};

struct tern_pitch *tern_pitch_create(const struct tern_pitch_config *cfg) {
  struct tern_pitch_config c = {0};
  if (cfg)
    c = *cfg;
  if (!c.sample_rate)
    c.sample_rate = 48000;
  if (!c.window)
    c.window = 2048;
  if (c.min_hz == 0)
    c.min_hz = 75;
  if (c.max_hz == 0)
    c.max_hz = 2100;
  if (c.threshold == 0)
    c.threshold = 0.15;
  if (c.silence_dbfs == 0)
    c.silence_dbfs = -60;
  if (c.sample_rate < 8000 || c.sample_rate > 192000 || !(c.min_hz > 0) ||
      !(c.max_hz > c.min_hz) || !(c.max_hz < c.sample_rate / 4.0) || !(c.threshold > 0) ||
      !(c.threshold < 1) || !(c.silence_dbfs < 0))
    return NULL;
  int tau_max = (int)ceil(c.sample_rate / c.min_hz) + 1;
  /* The integration length (window - tau_max) must cover at least one
   * longest period, or d(τ) no longer compares whole periods. */
  if (c.window < 2 * tau_max || c.window > (1 << 20))
    return NULL;

  struct tern_pitch *p = calloc(1, sizeof(*p));
  if (!p)
    return NULL;
  p->sample_rate = c.sample_rate;
  p->window = c.window;
  p->tau_max = tau_max;
  p->tau_lo = (int)floor(c.sample_rate / c.max_hz);
  if (p->tau_lo < 2)
    p->tau_lo = 2;
  p->threshold = c.threshold;
  p->silence_rms = pow(10.0, c.silence_dbfs / 20.0);
  p->x = calloc((size_t)c.window, sizeof(float));
  p->hist = calloc((size_t)c.window, sizeof(float));
  p->d = calloc((size_t)tau_max + 1, sizeof(double));
  p->dn = calloc((size_t)tau_max + 1, sizeof(double));
  if (!p->x || !p->hist || !p->d || !p->dn) {
    tern_pitch_destroy(p);
    return NULL;
  }
  return p;
}

void tern_pitch_destroy(struct tern_pitch *p) {
  if (!p)
    return;
  free(p->x);
  free(p->hist);
  free(p->d);
  free(p->dn);
  free(p);
}

int tern_pitch_window(const struct tern_pitch *p) { return p ? p->window : 0; }

double tern_pitch_confidence(const struct tern_pitch *p) { return p ? p->confidence : 0; }

/* d(τ) for τ in [1, tau_max]. This is the whole cost of the detector, so the
 * inner sum keeps four independent accumulators: without -ffast-math the
 * compiler may not reorder a float reduction, and one accumulator would
 * serialise on the add latency. */
static void difference(struct tern_pitch *p) {
  const float *x = p->x;
  int w = p->window - p->tau_max;
  p->d[0] = 0;
  for (int tau = 1; tau <= p->tau_max; tau++) {
    const float *y = x + tau;
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int j = 0;
    for (; j + 4 <= w; j += 4) {
      float e0 = x[j] - y[j], e1 = x[j + 1] - y[j + 1];
      float e2 = x[j + 2] - y[j + 2], e3 = x[j + 3] - y[j + 3];
      s0 += e0 * e0;
      s1 += e1 * e1;
      s2 += e2 * e2;
      s3 += e3 * e3;
    }
    for (; j < w; j++) {
      float e = x[j] - y[j];
      s0 += e * e;
    }
    p->d[tau] = (double)s0 + s1 + s2 + s3;
  }
}

static void normalise(struct tern_pitch *p) {
  double sum = 0;
  p->dn[0] = 1;
  for (int tau = 1; tau <= p->tau_max; tau++) {
    sum += p->d[tau];
    p->dn[tau] = sum > 0 ? p->d[tau] * tau / sum : 1;
  }
}

/* Sub-sample position of the minimum of d around integer lag t, from the
 * parabola through d(t-1), d(t), d(t+1). */
static double interpolate(const struct tern_pitch *p, int t) {
  double a = p->d[t - 1], b = p->d[t], c = p->d[t + 1];
  double den = a - 2 * b + c;
  if (den <= 0)
    return t;
  double shift = 0.5 * (a - c) / den;
  if (shift > 0.5)
    shift = 0.5;
  if (shift < -0.5)
    shift = -0.5;
  return t + shift;
}

/* Walks d downhill from t to its local minimum, staying inside [1, tau_max-1]
 * so that interpolate() has both neighbours. */
static int local_min(const struct tern_pitch *p, int t) {
  while (t > 1 && p->d[t - 1] < p->d[t])
    t--;
  while (t < p->tau_max - 1 && p->d[t + 1] < p->d[t])
    t++;
  return t;
}

static double analyse(struct tern_pitch *p) {
  p->confidence = 0;
  double sq = 0;
  for (int i = 0; i < p->window; i++)
    sq += (double)p->x[i] * p->x[i];
  if (sqrt(sq / p->window) < p->silence_rms)
    return TERN_PITCH_SILENCE;

  difference(p);
  normalise(p);

  /* YIN step 4: the first dip under the threshold, at its bottom. Taking the
   * first (not the deepest) avoids octave-down errors: at 2τ, 3τ... d' is
   * just as small for a periodic signal. */
  int last = p->tau_max - 1;
  int tau = -1;
  for (int t = p->tau_lo; t <= last; t++) {
    if (p->dn[t] < p->threshold) {
      while (t < last && p->dn[t + 1] < p->dn[t])
        t++;
      tau = t;
      break;
    }
  }
  if (tau < 0) {
    /* No dip under the threshold: accept the global minimum only if it is
     * still clearly periodic, so noise reports "no pitch". */
    int best = p->tau_lo;
    for (int t = p->tau_lo; t <= last; t++)
      if (p->dn[t] < p->dn[best])
        best = t;
    if (p->dn[best] >= 2 * p->threshold)
      return TERN_PITCH_NONE;
    tau = best;
  }
  p->confidence = 1 - p->dn[tau];
  if (p->confidence < 0)
    p->confidence = 0;

  /* YIN step 5 on the raw d (d' is biased by its normalisation). */
  double period = interpolate(p, local_min(p, tau));

  /* The k-th multiple of the period has the same parabola shape, so the
   * same absolute interpolation error becomes k times smaller once divided
   * by k. It is used only if it is itself a clear dip near k·period. */
  int k = (int)((p->tau_max - 2) / period);
  if (k >= 2) {
    int c = (int)lrint(k * period);
    int lo = c - 2 < 1 ? 1 : c - 2, hi = c + 2 > last ? last : c + 2;
    int m = lo;
    for (int t = lo; t <= hi; t++)
      if (p->d[t] < p->d[m])
        m = t;
    if (m > lo && m < hi && p->dn[m] < 2 * p->threshold) {
      double refined = interpolate(p, m) / k;
      if (fabs(refined - period) < 0.5)
        period = refined;
    }
  }
  if (period <= 0)
    return TERN_PITCH_NONE;
  return p->sample_rate / period;
}

double tern_pitch_detect(struct tern_pitch *p, const int16_t *x, int n) {
  if (!p || !x || n < p->window)
    return TERN_PITCH_NONE;
  x += n - p->window;
  for (int i = 0; i < p->window; i++)
    p->x[i] = x[i] * (1.0f / 32768.0f);
  return analyse(p);
}

void tern_pitch_push(struct tern_pitch *p, const int16_t *x, int n) {
  if (!p || !x || n <= 0)
    return;
  int w = p->window;
  if (n >= w) {
    x += n - w;
    n = w;
  }
  /* A 2048-float memmove per 20 ms frame is cheaper than ring-buffer
   * index arithmetic in the O(window × τ) inner loop. */
  memmove(p->hist, p->hist + n, (size_t)(w - n) * sizeof(float));
  for (int i = 0; i < n; i++)
    p->hist[w - n + i] = x[i] * (1.0f / 32768.0f);
  p->hist_fill = p->hist_fill + n > w ? w : p->hist_fill + n;
}

double tern_pitch_detect_latest(struct tern_pitch *p) {
  if (!p || p->hist_fill < p->window)
    return TERN_PITCH_NONE;
  memcpy(p->x, p->hist, (size_t)p->window * sizeof(float));
  return analyse(p);
}
