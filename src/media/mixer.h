/* mixer — a conversation's audio mixer: Opus RTP in, one Opus frame per
 * participant out every 20 ms, everyone hearing everyone else but never
 * itself.
 *
 * Knows nothing about peers, SRTP or HTTP. The owner (one conversation)
 * pushes each participant's incoming RTP with tern_mixer_push_rtp and calls
 * tern_mixer_tick once per 20 ms frame (from a tern_media_clock); the tick
 * calls emit once per participant with the Opus payload to send on that
 * participant's track. The owner gives every participant its own RTP
 * timeline (SSRC, sequence, timestamp += rtp_timestamp_step per emit).
 *
 * Per tick: each participant's jitter buffer plays out one 20 ms frame
 * (decoded, concealed with Opus PLC/FEC on loss, or nothing once it has been
 * absent for a while); voice activity (RFC 6464 audio level when the
 * extension is negotiated, else the decoded energy; hysteresis + hangover)
 * decides who is a SPEAKER. Only speakers are summed into the 32-bit mix
 * (quiet participants are gated out, so nobody's background noise adds up).
 * Then:
 *  - every speaker gets mix − own (computed in 32 bits), limited to 16 bits
 *    and encoded with its own encoder (created lazily, kept while it speaks
 *    plus encoder_keep_frames); at most max_speakers (the loudest) are
 *    mixed, which bounds the encodes per tick;
 *  - every other participant gets the same full mix, limited and encoded
 *    ONCE by the shared encoder: emit receives the same pointer for all of
 *    them. A listener is never in the mix, so it never hears itself either.
 * A participant alone still gets a frame (encoded silence) every tick, so its
 * RTP timeline never stalls.
 *
 * Encoder continuity: a receiver's Opus decoder tracks the state of the
 * encoder that produced its packets. When a listener becomes a speaker, its
 * own encoder is initialised with a byte copy of the shared encoder's state
 * (libopus encoder state is one position-independent block), i.e. exactly
 * the state its decoder is in: no codec discontinuity. The other way
 * (speaker → shared stream) cannot be made exact; it happens only after the
 * hangover, when its own signal has been quiet for a while, so both encoders
 * have been fed nearly the same audio and the mismatch is inaudible-small.
 *
 * Clipping: the 32-bit mix (and each mix − own) goes through a limiter with
 * a smoothly adapting gain (instant attack ramped over 1 ms, ~200 ms
 * release) and a soft knee above -1 dBFS as a safety net: never wraps, never
 * inverts, never exceeds 32767.
 *
 * Latency: a packet that arrived before a tick is played in that tick. The
 * jitter buffer starts with no extra delay, grows by one frame when a packet
 * arrives after its turn (an underrun is concealed and the late packet then
 * played), and holds at most jitter_max_frames (default 2) frames at a tick,
 * trimming the oldest beyond; a spare frame unused for a second is dropped.
 * Added latency = 0–20 ms waiting for the tick + jitter growth (≤ 20 ms by
 * default) + the re-encode's 6.5 ms look-ahead. See docs/mixer.md.
 *
 * Lifetime and re-entrancy: one loop thread; nothing here locks. emit may
 * call tern_mixer_add (the new participant gets its first frame at the next
 * tick), tern_mixer_remove (the removed participant gets no further emit,
 * even later in the same tick), tern_mixer_push_rtp, and tern_mixer_destroy
 * (takes effect when the tick returns; no further emit). tern_mixer_tick from
 * inside emit returns -EBUSY. A participant pointer is invalid after
 * tern_mixer_remove returns. tern_mixer_push_rtp and tern_mixer_tick never
 * allocate except when a participant first becomes a speaker (its encoder)
 * and never log.
 *
 * RFCs: 3550 (RTP), 6716 (Opus, PLC/FEC), 7587 (Opus RTP), 6464 (audio
 * level), 8285 (header extensions).
 */
#ifndef TERN_MEDIA_MIXER_H
#define TERN_MEDIA_MIXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/opus.h"

#define TERN_MIXER_RATE 48000
#define TERN_MIXER_FRAME 960 /* samples per tick: 20 ms mono */
#define TERN_MIXER_MAX_JITTER_FRAMES 4

struct tern_mixer_config {
  /* Every encoder (shared and per speaker): mono 48 kHz, 20 ms. */
  int bitrate;    /* bits/s 6000..510000, default 32000 */
  int complexity; /* 0..10, default 5 */
  enum tern_opus_application application; /* default VOIP */
  bool inband_fec;  /* default true */
  int loss_percent; /* 0..100, default 5 (FEC is only emitted if > 0) */
  /* Jitter buffer: most frames held at a tick, 1..4, default 2. */
  unsigned jitter_max_frames;
  /* Consecutive concealed frames before a participant with no packets is
   * treated as absent (not decoded, not mixed), default 10 (200 ms). */
  unsigned idle_frames;
  /* Voice activity in -dBov (RFC 6464: 0 loudest, 127 silence; a full-scale
   * sine is 3). Starts speaking at a level ≤ vad_on (default 50); keeps
   * speaking through up to vad_hangover_frames consecutive frames quieter
   * than vad_off (defaults 60 and 15 = 300 ms), stops at the next one. An
   * absent participant (idle, see idle_frames) stops at once. */
  uint8_t vad_on_dbov, vad_off_dbov;
  unsigned vad_hangover_frames;
  /* A speaker's encoder outlives its speech by this many frames before it
   * is freed (default 500 = 10 s), so talking again does not allocate. */
  unsigned encoder_keep_frames;
  unsigned max_participants; /* default 256, at most 4096 */
  /* At most this many speakers are mixed (and encode for themselves): the
   * loudest, a speaker already mixed winning ties by 6 dB. Bounds the CPU of
   * a room where everyone makes noise. Default 16; 0 = no limit. The others
   * hear the mix like listeners (they are not in it). */
  unsigned max_speakers;
  /* Janus-AudioBridge style: an encoder per participant, no shared encode.
   * For benchmarks and comparison only. */
  bool encoder_per_participant;
};

/* Counters of the last tick (reset at every tick). */
struct tern_mixer_tick_stats {
  unsigned participants; /* taking part in this tick */
  unsigned speakers;     /* summed into the mix (≤ max_speakers) */
  unsigned listeners;    /* got the shared (or, per-participant mode, full) mix */
  unsigned decodes;      /* libopus decode calls, PLC and FEC included */
  unsigned concealed;    /* of which PLC or FEC frames */
  unsigned encodes;
  unsigned emits;
};

/* Since create. */
struct tern_mixer_totals {
  uint64_t ticks, packets;
  uint64_t late, duplicates, malformed; /* packets dropped at push */
  uint64_t resyncs;   /* buffer restarted: SSRC change or a jump in sequence */
  uint64_t trimmed;   /* packets dropped to bound the latency */
  uint64_t decodes, concealed, encodes, emits;
  uint64_t encoders_created, encode_errors, alloc_failures;
};

struct tern_mixer;
struct tern_mixer_participant;

typedef void (*tern_mixer_emit_cb)(void *participant_user, const uint8_t *opus, size_t len,
                                   uint32_t rtp_timestamp_step, void *cb_user);
/* Sees each 16-bit frame just before it is encoded: participant_user NULL
 * for the shared mix, else the speaker's (or, per-participant mode, each
 * participant's) user. For tests, recording, metering. */
typedef void (*tern_mixer_pcm_tap)(void *participant_user, const int16_t *pcm, int samples,
                                   void *tap_user);

void tern_mixer_config_default(struct tern_mixer_config *cfg);
/* cfg NULL = defaults. NULL on a bad setting or allocation failure. */
struct tern_mixer *tern_mixer_create(const struct tern_mixer_config *cfg);
/* Frees every participant. From inside emit: deferred to the tick's end. */
void tern_mixer_destroy(struct tern_mixer *m);

/* A new participant; it takes part from the next tick. NULL when full
 * (max_participants) or out of memory. */
struct tern_mixer_participant *tern_mixer_add(struct tern_mixer *m, void *user);
/* Its audio leaves the mix from the next tick; no emit for it after this
 * returns. p is invalid afterwards. NULL is ignored. */
void tern_mixer_remove(struct tern_mixer *m, struct tern_mixer_participant *p);
size_t tern_mixer_count(const struct tern_mixer *m);

/* The a=extmap id negotiated for urn:ietf:params:rtp-hdrext:ssrc-audio-level
 * (1..255), or 0 for none (voice activity then comes from decoded energy).
 * 0 or -EINVAL. */
int tern_mixer_participant_set_audio_level_ext_id(struct tern_mixer_participant *p, uint8_t id);
/* One incoming RTP packet carrying Opus (the caller has routed by payload
 * type and decrypted). Copies the payload into the participant's jitter
 * buffer. 0 stored; -EINVAL not RTP / malformed; -EPROTO empty or invalid
 * Opus payload; -EMSGSIZE payload over 1275 bytes; -EALREADY duplicate;
 * -ESTALE arrived after its frame was played. All drops are counted. */
int tern_mixer_push_rtp(struct tern_mixer_participant *p, const uint8_t *rtp, size_t len);

/* One 20 ms frame: see the top of this file. 0, -EINVAL (no emit), -EBUSY
 * (called from inside emit). The payload passed to emit is valid during the
 * call only; rtp_timestamp_step is its duration in 48 kHz units (960). */
int tern_mixer_tick(struct tern_mixer *m, tern_mixer_emit_cb emit, void *cb_user);
void tern_mixer_set_pcm_tap(struct tern_mixer *m, tern_mixer_pcm_tap tap, void *tap_user);

const struct tern_mixer_tick_stats *tern_mixer_last_tick(const struct tern_mixer *m);
const struct tern_mixer_totals *tern_mixer_totals(const struct tern_mixer *m);
/* Voice activity of the last tick (for a "who is speaking" display; true
 * even when max_speakers kept it out of the mix). */
bool tern_mixer_participant_speaking(const struct tern_mixer_participant *p);
/* The last tick's level in -dBov (0 loudest .. 127 silent or absent). */
int tern_mixer_participant_level(const struct tern_mixer_participant *p);

/* The limiter, exposed for tests: int32 → int16 with a smoothly adapting
 * gain; state per output stream, start with tern_mixer_limiter_init. */
struct tern_mixer_limiter {
  float gain; /* 0 < gain <= 1 */
};
void tern_mixer_limiter_init(struct tern_mixer_limiter *l);
void tern_mixer_limit(struct tern_mixer_limiter *l, const int32_t *in, int16_t *out, int n);

#endif
