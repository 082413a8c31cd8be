/* jitter — see jitter.h. */
#include "media/jitter.h"

#include <errno.h>
#include <limits.h>
#include <opus.h>
#include <string.h>

#define MASK (TERN_JITTER_SLOTS - 1)
#define SPARE_WINDOW 50 /* ticks = 1 s */

_Static_assert((TERN_JITTER_SLOTS & MASK) == 0, "slot count must be a power of two");
_Static_assert(TERN_JITTER_SLOTS >= TERN_MIXER_MAX_JITTER_FRAMES + 2,
               "the window must hold the deepest buffer plus reordering room");

static struct tern_jitter_slot *slot_of(struct tern_jitter *j, uint16_t seq) {
  return &j->slots[seq & MASK];
}

static bool held(struct tern_jitter *j, uint16_t seq) {
  const struct tern_jitter_slot *s = slot_of(j, seq);
  return s->used && s->seq == seq;
}

int tern_jitter_init(struct tern_jitter *j, unsigned max_frames, unsigned idle_frames) {
  memset(j, 0, sizeof(*j));
  int err = 0;
  j->dec = opus_decoder_create(TERN_MIXER_RATE, 1, &err);
  if (!j->dec || err != OPUS_OK)
    return -ENOMEM;
  j->max_frames = max_frames;
  j->idle_frames = idle_frames;
  j->min_buffered = INT_MAX;
  return 0;
}

void tern_jitter_fini(struct tern_jitter *j) {
  if (j->dec)
    opus_decoder_destroy(j->dec);
  j->dec = NULL;
}

/* A new talk spurt, a new sender (SSRC) or a jump too far to bridge:
 * forget what is held and play from this packet on. */
static void restart(struct tern_jitter *j, uint32_t ssrc, uint16_t seq) {
  for (unsigned i = 0; i < TERN_JITTER_SLOTS; i++)
    j->slots[i].used = false;
  if (j->have_ssrc && ssrc != j->ssrc)
    j->dec_stale = true; /* another encoder's stream: the old history misleads */
  j->have_ssrc = true;
  j->ssrc = ssrc;
  j->next_seq = j->high_seq = seq;
  j->playing = true;
  j->fresh = true;
  j->stalls = j->underruns = 0;
  j->fifo_len = 0;
  j->window = 0;
  j->min_buffered = INT_MAX;
}

int tern_jitter_push(struct tern_jitter *j, uint32_t ssrc, uint16_t seq, const uint8_t *payload,
                     uint16_t len, uint16_t samples, int level, struct tern_mixer_totals *t) {
  if (!j->playing || !j->have_ssrc || ssrc != j->ssrc) {
    if (j->playing)
      t->resyncs++;
    restart(j, ssrc, seq);
  } else {
    int16_t d = (int16_t)(seq - j->next_seq);
    if (d < 0) {
      if (j->fresh && (uint16_t)(j->high_seq - seq) < TERN_JITTER_SLOTS) {
        /* reordered at the very start: nothing played yet, start earlier */
        j->next_seq = seq;
      } else if (d >= -TERN_JITTER_LATE_WINDOW) {
        t->late++;
        return -ESTALE;
      } else {
        t->resyncs++;
        restart(j, ssrc, seq);
      }
    } else if (d >= TERN_JITTER_SLOTS) {
      t->resyncs++;
      restart(j, ssrc, seq);
    }
  }
  struct tern_jitter_slot *s = slot_of(j, seq);
  if (s->used && s->seq == seq) {
    t->duplicates++;
    return -EALREADY;
  }
  s->used = true;
  s->seq = seq;
  s->len = len;
  s->samples = samples;
  s->level = (int16_t)level;
  memcpy(s->data, payload, len);
  if ((int16_t)(seq - j->high_seq) > 0)
    j->high_seq = seq;
  return 0;
}

/* Samples ready or held: what is left over from the last decode plus every
 * packet in the window. */
static int buffered(struct tern_jitter *j) {
  int b = j->fifo_len;
  for (unsigned i = 0; i < TERN_JITTER_SLOTS; i++) {
    uint16_t seq = (uint16_t)(j->next_seq + i);
    if (held(j, seq))
      b += slot_of(j, seq)->samples;
  }
  return b;
}

static bool any_held_after(struct tern_jitter *j, unsigned from) {
  for (unsigned i = from; i < TERN_JITTER_SLOTS; i++)
    if (held(j, (uint16_t)(j->next_seq + i)))
      return true;
  return false;
}

/* Gives up next_seq without playing it (latency trimming). A missing packet
 * that an earlier stall already concealed uses that stall up. */
static void drop_front(struct tern_jitter *j, struct tern_mixer_totals *t) {
  struct tern_jitter_slot *s = slot_of(j, j->next_seq);
  if (s->used && s->seq == j->next_seq) {
    s->used = false;
    t->trimmed++;
  } else if (j->stalls) {
    j->stalls--;
  }
  j->next_seq++;
}

/* The duration concealment should cover: the last packet's (Opus PLC
 * repeats it), a multiple of 2.5 ms. */
static int conceal_samples(struct tern_jitter *j) {
  int n = j->last_samples > 0 ? j->last_samples : TERN_MIXER_FRAME;
  return n - n % 120;
}

static void put_silence(struct tern_jitter *j, int n) {
  memset(j->fifo + j->fifo_len, 0, (size_t)n * sizeof(int16_t));
  j->fifo_len += n;
}

/* One lost frame: FEC out of `next` when it is there, else PLC. After
 * skipped (quiet) frames there is nothing worth extrapolating: silence. */
static void conceal(struct tern_jitter *j, const struct tern_jitter_slot *next,
                    struct tern_mixer_totals *t, struct tern_mixer_tick_stats *st) {
  int n = conceal_samples(j);
  if (j->last_skipped || j->dec_stale) {
    put_silence(j, n);
    return;
  }
  int16_t *out = j->fifo + j->fifo_len;
  int r = next ? opus_decode(j->dec, next->data, next->len, out, n, 1)
               : opus_decode(j->dec, NULL, 0, out, n, 0);
  st->decodes++, st->concealed++;
  t->decodes++, t->concealed++;
  if (r <= 0) {
    put_silence(j, n);
    return;
  }
  j->fifo_len += r;
}

static void play(struct tern_jitter *j, struct tern_jitter_slot *s, int quiet_level,
                 struct tern_mixer_totals *t, struct tern_mixer_tick_stats *st) {
  if (s->level >= 0 && s->level > quiet_level) {
    /* below the voice threshold and not speaking: it will not be mixed,
     * so the decode would be wasted */
    put_silence(j, s->samples);
    j->dec_stale = true;
    j->last_skipped = true;
    j->last_samples = s->samples;
    return;
  }
  if (j->dec_stale) {
    opus_decoder_ctl(j->dec, OPUS_RESET_STATE);
    j->dec_stale = false;
  }
  int16_t *out = j->fifo + j->fifo_len;
  int room = TERN_JITTER_FIFO - j->fifo_len; /* ≥ one 120 ms packet: fifo_len < 960 here */
  int r = opus_decode(j->dec, s->data, s->len, out, room, 0);
  st->decodes++;
  t->decodes++;
  j->last_skipped = false;
  if (r <= 0) { /* corrupt: treat it as lost */
    conceal(j, NULL, t, st);
    return;
  }
  j->last_samples = r;
  j->fifo_len += r;
}

/* Bounds the latency before playing: at most max_frames of 20 ms (one
 * longer packet counts whole), and a spare frame kept for a whole second
 * was not needed. */
static void trim(struct tern_jitter *j, struct tern_mixer_totals *t) {
  int last = j->last_samples > TERN_MIXER_FRAME ? j->last_samples : TERN_MIXER_FRAME;
  int cap = (int)(j->max_frames - 1) * TERN_MIXER_FRAME + last;
  int b = buffered(j);
  while (b > cap && any_held_after(j, 0)) {
    if (held(j, j->next_seq))
      b -= slot_of(j, j->next_seq)->samples;
    drop_front(j, t);
  }
  if (b < (int)j->min_buffered)
    j->min_buffered = (unsigned)b;
  if (++j->window >= SPARE_WINDOW) {
    if ((int)j->min_buffered >= TERN_MIXER_FRAME + last && held(j, j->next_seq))
      drop_front(j, t);
    j->window = 0;
    j->min_buffered = INT_MAX;
  }
}

int tern_jitter_pull(struct tern_jitter *j, int16_t *pcm, int quiet_level, int *level,
                     struct tern_mixer_totals *t, struct tern_mixer_tick_stats *st) {
  *level = -1;
  if (!j->playing)
    return 0;
  trim(j, t);
  while (j->fifo_len < TERN_MIXER_FRAME) {
    struct tern_jitter_slot *s = slot_of(j, j->next_seq);
    if (s->used && s->seq == j->next_seq) {
      play(j, s, quiet_level, t, st);
      if (s->level >= 0 && (*level < 0 || s->level < *level))
        *level = s->level;
      s->used = false;
      j->next_seq++;
      j->stalls = 0;
      j->underruns = 0;
      j->fresh = false;
    } else if (any_held_after(j, 1)) {
      if (j->stalls) { /* an underrun already played a frame in its place */
        j->stalls--;
        j->next_seq++;
        continue;
      }
      uint16_t nx = (uint16_t)(j->next_seq + 1);
      conceal(j, held(j, nx) ? slot_of(j, nx) : NULL, t, st);
      j->next_seq++;
    } else {
      if (j->underruns >= j->idle_frames) {
        j->playing = false;
        j->fifo_len = 0;
        return 0;
      }
      conceal(j, NULL, t, st);
      j->stalls++;
      j->underruns++;
    }
  }
  memcpy(pcm, j->fifo, TERN_MIXER_FRAME * sizeof(int16_t));
  j->fifo_len -= TERN_MIXER_FRAME;
  if (j->fifo_len > 0)
    memmove(j->fifo, j->fifo + TERN_MIXER_FRAME, (size_t)j->fifo_len * sizeof(int16_t));
  return 1;
}
