/* tone — a phase-continuous sine generator with amplitude and stereo panning.
 *
 * Fills int16 frames, mono or interleaved stereo, at any sample rate (Tern
 * uses 48 kHz, 960 samples = 20 ms). Invariants:
 *  - Phase is kept across calls and across frequency changes: the waveform
 *    never jumps, it only changes slope, so changing the frequency
 *    mid-stream does not click. The phase is a fraction of a cycle in [0, 1)
 *    held in a double, so it does not lose precision over hours.
 *  - Amplitude and pan changes are ramped linearly across the next fill call
 *    (one 20 ms frame), again so that a change never makes a step.
 *  - Panning 0..100: 0 = left only (right exactly 0), 100 = right only (left
 *    exactly 0), 50 = both at -3 dB. The law is equal-power (constant
 *    loudness): left = cos(p·π/2), right = sin(p·π/2) with p = pan/100, so
 *    left² + right² = 1 at every position. Mono output ignores the pan.
 *
 * A tern_tone is a plain struct owned by the caller; no allocation, no
 * callbacks, one thread at a time.
 */
#ifndef TERN_MEDIA_TONE_H
#define TERN_MEDIA_TONE_H

#include <stdint.h>

struct tern_tone {
  int sample_rate;
  int channels;
  double phase;     /* cycles, [0, 1) */
  double freq;      /* Hz */
  double amplitude; /* target, 0..1 of full scale */
  double gain_l, gain_r; /* target pan gains */
  /* what the last fill ended on: the next fill ramps from these to the targets */
  double cur_amp, cur_l, cur_r;
  int pan;
};

/* channels 1 or 2; 0 < freq_hz < sample_rate / 2; 0 <= amplitude <= 1.
 * Starts centred (pan 50). 0 or -EINVAL. */
int tern_tone_init(struct tern_tone *t, int sample_rate, int channels, double freq_hz,
                   double amplitude);
/* 0 or -EINVAL (the tone keeps its previous value). */
int tern_tone_set_frequency(struct tern_tone *t, double freq_hz);
int tern_tone_set_amplitude(struct tern_tone *t, double amplitude);
int tern_tone_set_pan(struct tern_tone *t, int pan);
/* Writes frames * channels samples (interleaved L R for stereo). */
void tern_tone_fill(struct tern_tone *t, int16_t *out, int frames);

#endif
