/* jitter — the mixer's per-participant receive side: a small jitter buffer
 * keyed by RTP sequence number, and the Opus decoder that plays it out one
 * 20 ms frame per tick. Internal to media/mixer.c (see mixer.h for the
 * latency contract and docs/mixer.md for the measurements).
 *
 * Buffer: TERN_JITTER_SLOTS slots indexed by seq modulo the slot count,
 * covering [next_seq, next_seq + SLOTS). A packet before next_seq has had
 * its turn (-ESTALE), one already held is a duplicate (-EALREADY), one
 * beyond the window (a long loss burst) or from a new SSRC restarts the
 * buffer. The first packet of a talk spurt starts playout at once.
 *
 * Playout (tern_jitter_pull), per tick, until 960 samples are ready:
 *  - next_seq held: decode it;
 *  - next_seq missing, a later packet held: it is lost; rebuild it from the
 *    next packet's in-band FEC (PLC if none), unless an earlier underrun
 *    already played a concealed frame in its place;
 *  - nothing held (underrun): conceal one frame (PLC) and keep next_seq,
 *    a "stall": if the packet turns up by the next tick it is played one
 *    frame late and the buffer is one frame deeper from then on (this is how
 *    the depth adapts to jitter); if the following one turns up instead, the
 *    stall stood in for the lost one. After idle_frames stalls in a row the
 *    participant is idle (no decode, no audio) until its next packet.
 * Latency bound: before playing, packets beyond max_frames × 20 ms are
 * dropped oldest first; and if the buffer kept a spare frame at every tick
 * for a second, one frame is dropped to give the latency back.
 *
 * Decoding is skipped (silence produced, decoder untouched) for packets whose
 * audio level says they are quieter than the caller's threshold; the decoder
 * is reset before it next decodes, since its history is then stale.
 *
 * Memory: everything inline (≈ 23 KiB) plus one libopus decoder. No
 * allocation after init.
 */
#ifndef TERN_MEDIA_JITTER_H
#define TERN_MEDIA_JITTER_H

#include <stdbool.h>
#include <stdint.h>

#include "media/mixer.h"
#include "media/opus.h"

#define TERN_JITTER_SLOTS 8 /* power of two; ≥ TERN_MIXER_MAX_JITTER_FRAMES + 2 */
#define TERN_JITTER_FIFO (TERN_OPUS_MAX_FRAME + TERN_MIXER_FRAME)
/* How far behind next_seq a packet still counts as late rather than as a
 * sender that restarted its sequence numbers. */
#define TERN_JITTER_LATE_WINDOW 1000

struct OpusDecoder;

struct tern_jitter_slot {
  bool used;
  int16_t level;    /* RFC 6464 -dBov, -1 unknown */
  uint16_t seq;
  uint16_t len;     /* payload bytes */
  uint16_t samples; /* payload duration at 48 kHz */
  uint8_t data[TERN_OPUS_MAX_PACKET];
};

struct tern_jitter {
  struct OpusDecoder *dec;
  unsigned max_frames, idle_frames;
  bool playing;
  bool fresh;          /* nothing consumed since playout (re)started */
  bool have_ssrc;
  bool dec_stale;      /* packets were skipped: reset before decoding */
  bool last_skipped;   /* the latest frame was skipped: conceal with zeros */
  uint32_t ssrc;
  uint16_t next_seq, high_seq;
  unsigned stalls;     /* concealed frames standing in for next_seq.. */
  unsigned underruns;  /* consecutive concealed frames with nothing held */
  unsigned window, min_buffered; /* spare-frame detection over 50 ticks */
  int last_samples;    /* duration of the last packet played (PLC repeats it) */
  int fifo_len;
  int16_t fifo[TERN_JITTER_FIFO];
  struct tern_jitter_slot slots[TERN_JITTER_SLOTS];
};

/* 0 or -ENOMEM. max_frames 1..TERN_MIXER_MAX_JITTER_FRAMES. */
int tern_jitter_init(struct tern_jitter *j, unsigned max_frames, unsigned idle_frames);
void tern_jitter_fini(struct tern_jitter *j);

/* Stores one packet (payload already checked: 1..1275 bytes, samples from
 * its TOC). level -1 if unknown. 0, -EALREADY, -ESTALE; restarts count in
 * t->resyncs. */
int tern_jitter_push(struct tern_jitter *j, uint32_t ssrc, uint16_t seq, const uint8_t *payload,
                     uint16_t len, uint16_t samples, int level, struct tern_mixer_totals *t);

/* Plays the next TERN_MIXER_FRAME samples into pcm. Packets with a known
 * level > quiet_level are not decoded (pass 127 to decode everything).
 * Returns 1 with pcm filled and *level = the loudest known level among the
 * packets consumed (-1 if none known: measure the pcm), or 0 if the
 * participant is idle (pcm untouched). */
int tern_jitter_pull(struct tern_jitter *j, int16_t *pcm, int quiet_level, int *level,
                     struct tern_mixer_totals *t, struct tern_mixer_tick_stats *s);

#endif
