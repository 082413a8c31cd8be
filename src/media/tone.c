/* tone — see tone.h. */
#include "media/tone.h"

#include <errno.h>
#include <math.h>

static void pan_gains(int pan, double *l, double *r) {
  /* The ends are set exactly: cos(π/2) is 6e-17, not 0, and "left only"
   * must mean a silent right channel, bit for bit. */
  if (pan <= 0) {
    *l = 1.0, *r = 0.0;
  } else if (pan >= 100) {
    *l = 0.0, *r = 1.0;
  } else {
    double a = (double)pan / 100.0 * M_PI / 2.0;
    *l = cos(a);
    *r = sin(a);
  }
}

int tern_tone_init(struct tern_tone *t, int sample_rate, int channels, double freq_hz,
                   double amplitude) {
  if (!t || sample_rate <= 0 || (channels != 1 && channels != 2))
    return -EINVAL;
  *t = (struct tern_tone){.sample_rate = sample_rate, .channels = channels, .pan = 50};
  if (tern_tone_set_frequency(t, freq_hz) < 0 || tern_tone_set_amplitude(t, amplitude) < 0)
    return -EINVAL;
  pan_gains(50, &t->gain_l, &t->gain_r);
  /* No ramp on the very first frame: start at the requested level. */
  t->cur_amp = t->amplitude;
  t->cur_l = t->gain_l;
  t->cur_r = t->gain_r;
  return 0;
}

int tern_tone_set_frequency(struct tern_tone *t, double freq_hz) {
  if (!t || !(freq_hz > 0.0) || !(freq_hz < t->sample_rate / 2.0))
    return -EINVAL;
  t->freq = freq_hz;
  return 0;
}

int tern_tone_set_amplitude(struct tern_tone *t, double amplitude) {
  if (!t || !(amplitude >= 0.0 && amplitude <= 1.0))
    return -EINVAL;
  t->amplitude = amplitude;
  return 0;
}

int tern_tone_set_pan(struct tern_tone *t, int pan) {
  if (!t || pan < 0 || pan > 100)
    return -EINVAL;
  t->pan = pan;
  pan_gains(pan, &t->gain_l, &t->gain_r);
  return 0;
}

static int16_t to_s16(double v) {
  double s = v * 32767.0;
  if (s > 32767.0)
    s = 32767.0;
  if (s < -32768.0)
    s = -32768.0;
  return (int16_t)lrint(s);
}

void tern_tone_fill(struct tern_tone *t, int16_t *out, int frames) {
  if (!t || !out || frames <= 0)
    return;
  double step = t->freq / t->sample_rate;
  double a0 = t->cur_amp, da = (t->amplitude - a0) / frames;
  double l0 = t->cur_l, dl = (t->gain_l - l0) / frames;
  double r0 = t->cur_r, dr = (t->gain_r - r0) / frames;
  double ph = t->phase;
  for (int i = 0; i < frames; i++) {
    double k = i + 1; /* the ramp reaches its target on the last sample */
    double v = sin(2.0 * M_PI * ph) * (a0 + da * k);
    if (t->channels == 1) {
      out[i] = to_s16(v);
    } else {
      out[2 * i] = to_s16(v * (l0 + dl * k));
      out[2 * i + 1] = to_s16(v * (r0 + dr * k));
    }
    ph += step;
    if (ph >= 1.0)
      ph -= 1.0;
  }
  t->phase = ph;
  t->cur_amp = t->amplitude;
  t->cur_l = t->gain_l;
  t->cur_r = t->gain_r;
}
