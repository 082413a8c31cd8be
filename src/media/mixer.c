/* mixer — see mixer.h; the receive side (jitter buffer, decoding,
 * concealment) is in jitter.c. */
#include "media/mixer.h"

#include <errno.h>
#include <math.h>
#include <opus.h>
#include <stdlib.h>
#include <string.h>

#include "media/jitter.h"
#include "rtp/opus_pack.h"
#include "rtp/rtp.h"

#define MAX_PARTICIPANTS_LIMIT 4096

struct tern_mixer_participant {
  struct tern_mixer *mixer;
  void *user;
  uint8_t level_ext_id;
  bool removed;
  bool speaking;   /* voice activity */
  bool mixed;      /* this tick: a speaker in the mix (≤ max_speakers of them) */
  bool own_out;    /* this tick: gets its own encoder's packet */
  bool got_shared; /* its last emit was the shared payload */
  unsigned quiet_run;
  int level;
  /* Raw libopus state, not tern_opus_enc: a listener turning speaker gets
   * a byte copy of the shared encoder, which needs the state's size. */
  OpusEncoder *enc;
  unsigned enc_idle;
  struct tern_mixer_limiter lim;
  int out_len;
  uint8_t out[TERN_OPUS_MAX_PACKET];
  int16_t pcm[TERN_MIXER_FRAME];
  struct tern_jitter jb;
};

struct tern_mixer {
  struct tern_mixer_config cfg;
  struct tern_mixer_participant **parts;
  struct tern_mixer_participant **cand; /* max_participants, for speaker selection */
  size_t n, cap;
  bool in_tick, destroy_pending, has_removed;
  OpusEncoder *shared;
  struct tern_mixer_limiter shared_lim;
  size_t enc_size;
  tern_mixer_pcm_tap tap;
  void *tap_user;
  struct tern_mixer_tick_stats last;
  struct tern_mixer_totals totals;
  int shared_len;
  int32_t mix[TERN_MIXER_FRAME];
  int32_t tmp[TERN_MIXER_FRAME];
  int16_t pcm16[TERN_MIXER_FRAME];
  uint8_t shared_pkt[TERN_OPUS_MAX_PACKET];
};

/* ---- limiter ---------------------------------------------------------- */

/* Gain keeps peaks at -1 dBFS; whatever still exceeds it (only during the
 * 1 ms attack ramp) is bent by a soft knee that approaches 32767 without
 * reaching it, so the sign and the waveform's shape survive. */
#define LIM_CEIL 29204.0f /* -1 dBFS */
#define LIM_KNEE (32767.0f - LIM_CEIL)
#define LIM_ATTACK 48     /* samples: 1 ms ramp down, fast but not a click */
#define LIM_RELEASE 0.1f  /* per frame toward 1: τ ≈ 190 ms, no pumping */

void tern_mixer_limiter_init(struct tern_mixer_limiter *l) { l->gain = 1.0f; }

static int16_t soft_knee(float y) {
  float a = fabsf(y);
  if (a <= LIM_CEIL)
    return (int16_t)lrintf(y);
  float e = a - LIM_CEIL;
  long r = lrintf(LIM_CEIL + LIM_KNEE * e / (e + LIM_KNEE));
  if (r > 32767)
    r = 32767;
  return (int16_t)(y < 0 ? -r : r);
}

void tern_mixer_limit(struct tern_mixer_limiter *l, const int32_t *in, int16_t *out, int n) {
  uint32_t peak = 0;
  for (int i = 0; i < n; i++) {
    uint32_t a = in[i] < 0 ? (uint32_t)(-(int64_t)in[i]) : (uint32_t)in[i];
    if (a > peak)
      peak = a;
  }
  float g0 = l->gain;
  float target = (float)peak > LIM_CEIL ? LIM_CEIL / (float)peak : 1.0f;
  float g1;
  if (target < g0) {
    g1 = target;
  } else {
    g1 = g0 + (1.0f - g0) * LIM_RELEASE;
    if (g1 > 0.999f)
      g1 = 1.0f;
    if (g1 > target)
      g1 = target;
  }
  l->gain = g1;
  if (g0 == 1.0f && g1 == 1.0f) { /* the usual case: peak ≤ ceiling */
    for (int i = 0; i < n; i++)
      out[i] = (int16_t)in[i];
    return;
  }
  int ramp = g1 < g0 ? (n < LIM_ATTACK ? n : LIM_ATTACK) : n;
  float step = (g1 - g0) / (float)ramp;
  for (int i = 0; i < n; i++) {
    float g = i < ramp ? g0 + step * (float)(i + 1) : g1;
    out[i] = soft_knee((float)in[i] * g);
  }
}

/* ---- configuration and encoders -------------------------------------- */

void tern_mixer_config_default(struct tern_mixer_config *c) {
  *c = (struct tern_mixer_config){
      .bitrate = 32000,
      .complexity = 5,
      .application = TERN_OPUS_APP_VOIP,
      .inband_fec = true,
      .loss_percent = 5,
      .jitter_max_frames = 2,
      .idle_frames = 10,
      .vad_on_dbov = 50,
      .vad_off_dbov = 60,
      .vad_hangover_frames = 15,
      .encoder_keep_frames = 500,
      .max_participants = 256,
      .max_speakers = 16,
  };
}

static bool config_ok(const struct tern_mixer_config *c) {
  return c->bitrate >= 6000 && c->bitrate <= 510000 && c->complexity >= 0 &&
         c->complexity <= 10 && c->loss_percent >= 0 && c->loss_percent <= 100 &&
         (c->application == TERN_OPUS_APP_VOIP || c->application == TERN_OPUS_APP_AUDIO) &&
         c->jitter_max_frames >= 1 && c->jitter_max_frames <= TERN_MIXER_MAX_JITTER_FRAMES &&
         c->idle_frames >= 1 && c->idle_frames <= 1000 && c->vad_on_dbov <= 127 &&
         c->vad_off_dbov >= c->vad_on_dbov && c->vad_off_dbov <= 127 &&
         c->vad_hangover_frames <= 100000 && c->encoder_keep_frames <= 1000000 &&
         c->max_participants >= 1 && c->max_participants <= MAX_PARTICIPANTS_LIMIT &&
         c->max_speakers <= c->max_participants;
}

static OpusEncoder *encoder_new(const struct tern_mixer *m) {
  const struct tern_mixer_config *c = &m->cfg;
  OpusEncoder *e = malloc(m->enc_size);
  if (!e)
    return NULL;
  int app = c->application == TERN_OPUS_APP_VOIP ? OPUS_APPLICATION_VOIP
                                                 : OPUS_APPLICATION_AUDIO;
  if (opus_encoder_init(e, TERN_MIXER_RATE, 1, app) != OPUS_OK ||
      opus_encoder_ctl(e, OPUS_SET_BITRATE(c->bitrate)) != OPUS_OK ||
      opus_encoder_ctl(e, OPUS_SET_COMPLEXITY(c->complexity)) != OPUS_OK ||
      opus_encoder_ctl(e, OPUS_SET_INBAND_FEC(c->inband_fec ? 1 : 0)) != OPUS_OK ||
      opus_encoder_ctl(e, OPUS_SET_PACKET_LOSS_PERC(c->loss_percent)) != OPUS_OK)
    goto free_enc;
  return e;

free_enc:
  free(e);
  return NULL;
}

struct tern_mixer *tern_mixer_create(const struct tern_mixer_config *cfg) {
  struct tern_mixer_config def;
  if (!cfg) {
    tern_mixer_config_default(&def);
    cfg = &def;
  }
  if (!config_ok(cfg))
    return NULL;
  struct tern_mixer *m = calloc(1, sizeof(*m));
  if (!m)
    return NULL;
  m->cfg = *cfg;
  m->enc_size = (size_t)opus_encoder_get_size(1);
  m->cand = calloc(cfg->max_participants, sizeof(*m->cand));
  if (!m->cand)
    goto free_mixer;
  tern_mixer_limiter_init(&m->shared_lim);
  /* also the fallback for a participant whose own encoder failed to
   * allocate, so it exists in per-participant mode too */
  m->shared = encoder_new(m);
  if (!m->shared)
    goto free_mixer;
  return m;

free_mixer:
  free(m->cand);
  free(m);
  return NULL;
}

static void participant_free(struct tern_mixer_participant *p) {
  tern_jitter_fini(&p->jb);
  free(p->enc);
  free(p);
}

static void destroy_now(struct tern_mixer *m) {
  for (size_t i = 0; i < m->n; i++)
    participant_free(m->parts[i]);
  free(m->parts);
  free(m->cand);
  free(m->shared);
  free(m);
}

void tern_mixer_destroy(struct tern_mixer *m) {
  if (!m)
    return;
  if (m->in_tick) {
    m->destroy_pending = true;
    return;
  }
  destroy_now(m);
}

/* ---- participants ----------------------------------------------------- */

struct tern_mixer_participant *tern_mixer_add(struct tern_mixer *m, void *user) {
  if (!m || m->destroy_pending || m->n >= m->cfg.max_participants)
    return NULL;
  if (m->n == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 8;
    if (cap > m->cfg.max_participants)
      cap = m->cfg.max_participants;
    void *np = realloc(m->parts, cap * sizeof(*m->parts));
    if (!np)
      return NULL;
    m->parts = np;
    m->cap = cap;
  }
  struct tern_mixer_participant *p = calloc(1, sizeof(*p));
  if (!p)
    return NULL;
  if (tern_jitter_init(&p->jb, m->cfg.jitter_max_frames, m->cfg.idle_frames) < 0) {
    free(p);
    return NULL;
  }
  p->mixer = m;
  p->user = user;
  p->level = 127;
  tern_mixer_limiter_init(&p->lim);
  m->parts[m->n++] = p;
  return p;
}

/* Frees the participants marked removed, keeping the others' order. */
static void compact(struct tern_mixer *m) {
  size_t w = 0;
  for (size_t r = 0; r < m->n; r++) {
    struct tern_mixer_participant *p = m->parts[r];
    if (p->removed)
      participant_free(p);
    else
      m->parts[w++] = p;
  }
  m->n = w;
  m->has_removed = false;
}

void tern_mixer_remove(struct tern_mixer *m, struct tern_mixer_participant *p) {
  if (!m || !p || p->mixer != m || p->removed)
    return;
  p->removed = true;
  m->has_removed = true;
  if (!m->in_tick) /* inside a tick the emit loop may still be walking it */
    compact(m);
}

size_t tern_mixer_count(const struct tern_mixer *m) {
  size_t c = 0;
  for (size_t i = 0; m && i < m->n; i++)
    c += !m->parts[i]->removed;
  return c;
}

int tern_mixer_participant_set_audio_level_ext_id(struct tern_mixer_participant *p, uint8_t id) {
  if (!p)
    return -EINVAL;
  p->level_ext_id = id;
  return 0;
}

bool tern_mixer_participant_speaking(const struct tern_mixer_participant *p) {
  return p && p->speaking;
}

int tern_mixer_participant_level(const struct tern_mixer_participant *p) {
  return p ? p->level : 127;
}

int tern_mixer_push_rtp(struct tern_mixer_participant *p, const uint8_t *rtp, size_t len) {
  if (!p || !rtp || p->removed)
    return -EINVAL;
  struct tern_mixer_totals *t = &p->mixer->totals;
  struct tern_rtp r;
  if (tern_rtp_parse(rtp, len, &r) < 0) {
    t->malformed++;
    return -EINVAL;
  }
  if (r.payload_len > TERN_OPUS_MAX_PACKET) {
    t->malformed++;
    return -EMSGSIZE;
  }
  int samples = tern_opus_packet_samples(r.payload, r.payload_len);
  if (r.payload_len == 0 || samples <= 0) {
    t->malformed++;
    return -EPROTO;
  }
  int level = -1;
  const uint8_t *d;
  size_t dlen;
  bool voice;
  uint8_t lvl;
  if (p->level_ext_id && r.extension &&
      tern_rtp_ext_find(&r, p->level_ext_id, &d, &dlen) == 0 &&
      tern_rtp_ext_read_audio_level(d, dlen, &voice, &lvl) == 0)
    level = lvl; /* the V flag is optional (RFC 6464 §3): the level decides */
  t->packets++;
  return tern_jitter_push(&p->jb, r.ssrc, r.seq, r.payload, (uint16_t)r.payload_len,
                          (uint16_t)samples, level, t);
}

void tern_mixer_set_pcm_tap(struct tern_mixer *m, tern_mixer_pcm_tap tap, void *tap_user) {
  if (!m)
    return;
  m->tap = tap;
  m->tap_user = tap_user;
}

const struct tern_mixer_tick_stats *tern_mixer_last_tick(const struct tern_mixer *m) {
  return &m->last;
}

const struct tern_mixer_totals *tern_mixer_totals(const struct tern_mixer *m) {
  return &m->totals;
}

/* ---- the tick ----------------------------------------------------------- */

/* RFC 6464 level of a frame: -dBov, 0 dBov being a full-scale square wave,
 * so a full-scale sine is 3 and digital silence 127. */
static int pcm_level(const int16_t *pcm) {
  int64_t e = 0;
  for (int i = 0; i < TERN_MIXER_FRAME; i++)
    e += (int32_t)pcm[i] * pcm[i];
  if (e == 0)
    return 127;
  double db = 10.0 * log10((double)e / TERN_MIXER_FRAME / (32767.0 * 32767.0));
  long l = lrint(-db);
  return l < 0 ? 0 : l > 127 ? 127 : (int)l;
}

/* Hysteresis: on at vad_on, off only after vad_hangover_frames quieter than
 * vad_off, so a speaker does not flap between its own encoder and the
 * shared one at every pause between words. */
static void vad_update(const struct tern_mixer_config *c, struct tern_mixer_participant *p,
                       int level) {
  p->level = level;
  if (p->speaking) {
    if (level <= c->vad_off_dbov)
      p->quiet_run = 0;
    else if (++p->quiet_run > c->vad_hangover_frames)
      p->speaking = false;
  } else if (level <= c->vad_on_dbov) {
    p->speaking = true;
    p->quiet_run = 0;
  }
}

static void input(struct tern_mixer *m, struct tern_mixer_participant *p) {
  int level;
  /* not speaking: packets the audio level already calls quiet would be
   * gated out anyway, so they are not decoded */
  int quiet = p->speaking ? 127 : m->cfg.vad_on_dbov;
  if (tern_jitter_pull(&p->jb, p->pcm, quiet, &level, &m->totals, &m->last) != 1) {
    p->speaking = false;
    p->mixed = false;
    p->quiet_run = 0;
    p->level = 127;
    return;
  }
  if (level < 0)
    level = pcm_level(p->pcm);
  vad_update(&m->cfg, p, level);
}

/* Loudness rank for the max_speakers cut: lower is louder; a speaker
 * already in the mix gets 6 dB of advantage so that equally loud voices do
 * not take turns every frame. */
static int rank(const struct tern_mixer_participant *p) {
  return p->level - (p->mixed ? 6 : 0);
}

/* Marks who is mixed this tick: every speaker, or the loudest max_speakers
 * of them. */
static void choose_mixed(struct tern_mixer *m, size_t n) {
  size_t c = 0;
  for (size_t i = 0; i < n; i++) {
    struct tern_mixer_participant *p = m->parts[i];
    if (p->removed)
      continue;
    if (p->speaking)
      m->cand[c++] = p;
    else
      p->mixed = false;
  }
  unsigned k = m->cfg.max_speakers;
  if (!k || c <= k) {
    for (size_t i = 0; i < c; i++)
      m->cand[i]->mixed = true;
    return;
  }
  /* partial selection sort: k is small */
  for (size_t i = 0; i < k; i++) {
    size_t best = i;
    for (size_t j = i + 1; j < c; j++)
      if (rank(m->cand[j]) < rank(m->cand[best]))
        best = j;
    struct tern_mixer_participant *t = m->cand[i];
    m->cand[i] = m->cand[best];
    m->cand[best] = t;
  }
  for (size_t i = 0; i < c; i++)
    m->cand[i]->mixed = i < k;
}

/* Decides who encodes for itself this tick and sums the mixed speakers. A
 * listener turning speaker continues from the shared encoder's state, which
 * is exactly where its receiver's decoder is. */
static void select_and_mix(struct tern_mixer *m, size_t n) {
  bool shared_mode = !m->cfg.encoder_per_participant;
  choose_mixed(m, n);
  memset(m->mix, 0, sizeof(m->mix));
  for (size_t i = 0; i < n; i++) {
    struct tern_mixer_participant *p = m->parts[i];
    if (p->removed)
      continue;
    p->own_out = false;
    if (p->mixed || !shared_mode) {
      if (!p->enc) {
        p->enc = encoder_new(m);
        if (p->enc)
          m->totals.encoders_created++;
        else
          m->totals.alloc_failures++;
      }
      if (p->enc) {
        if (shared_mode && p->got_shared) {
          memcpy(p->enc, m->shared, m->enc_size);
          p->lim = m->shared_lim;
        }
        p->own_out = true;
        p->enc_idle = 0;
      } else {
        p->mixed = false; /* no mix-minus possible: keep it out of the mix */
      }
    }
    if (p->mixed) {
      m->last.speakers++;
      for (int k = 0; k < TERN_MIXER_FRAME; k++)
        m->mix[k] += p->pcm[k];
    }
  }
}

static int encode(struct tern_mixer *m, OpusEncoder *enc, uint8_t *out) {
  int r = opus_encode(enc, m->pcm16, TERN_MIXER_FRAME, out, TERN_OPUS_MAX_PACKET);
  m->last.encodes++;
  if (r <= 0) {
    m->totals.encode_errors++;
    return 0;
  }
  return r;
}

static void encode_all(struct tern_mixer *m, size_t n) {
  unsigned listeners = 0;
  for (size_t i = 0; i < n; i++)
    listeners += !m->parts[i]->removed && !m->parts[i]->own_out;
  m->last.listeners = listeners;
  if (m->cfg.encoder_per_participant)
    m->last.listeners = m->last.participants - m->last.speakers;

  m->shared_len = 0;
  if (listeners) {
    tern_mixer_limit(&m->shared_lim, m->mix, m->pcm16, TERN_MIXER_FRAME);
    if (m->tap)
      m->tap(NULL, m->pcm16, TERN_MIXER_FRAME, m->tap_user);
    m->shared_len = encode(m, m->shared, m->shared_pkt);
  }
  for (size_t i = 0; i < n; i++) {
    struct tern_mixer_participant *p = m->parts[i];
    if (p->removed || !p->own_out)
      continue;
    /* mix − own in 32 bits, before limiting: its own voice cancels exactly */
    const int32_t *src = m->mix;
    if (p->mixed) {
      for (int k = 0; k < TERN_MIXER_FRAME; k++)
        m->tmp[k] = m->mix[k] - p->pcm[k];
      src = m->tmp;
    }
    tern_mixer_limit(&p->lim, src, m->pcm16, TERN_MIXER_FRAME);
    if (m->tap)
      m->tap(p->user, m->pcm16, TERN_MIXER_FRAME, m->tap_user);
    p->out_len = encode(m, p->enc, p->out);
  }
}

static void emit_all(struct tern_mixer *m, size_t n, tern_mixer_emit_cb emit, void *cb_user) {
  for (size_t i = 0; i < n && !m->destroy_pending; i++) {
    struct tern_mixer_participant *p = m->parts[i];
    if (p->removed) /* possibly by an earlier emit of this very tick */
      continue;
    const uint8_t *pkt = p->own_out ? p->out : m->shared_pkt;
    int len = p->own_out ? p->out_len : m->shared_len;
    p->got_shared = !p->own_out && len > 0;
    if (len <= 0)
      continue;
    m->last.emits++;
    emit(p->user, pkt, (size_t)len, TERN_MIXER_FRAME, cb_user);
  }
}

/* A speaker's encoder outlives its speech for a while: talking again soon
 * costs no allocation (its state is refreshed from the shared encoder). */
static void age_encoders(struct tern_mixer *m, size_t n) {
  if (m->cfg.encoder_per_participant)
    return;
  for (size_t i = 0; i < n; i++) {
    struct tern_mixer_participant *p = m->parts[i];
    if (p->removed || p->own_out || !p->enc)
      continue;
    if (++p->enc_idle > m->cfg.encoder_keep_frames) {
      free(p->enc);
      p->enc = NULL;
    }
  }
}

int tern_mixer_tick(struct tern_mixer *m, tern_mixer_emit_cb emit, void *cb_user) {
  if (!m || !emit)
    return -EINVAL;
  if (m->in_tick)
    return -EBUSY;
  m->in_tick = true;
  memset(&m->last, 0, sizeof(m->last));
  /* participants added by emit (appended past n) start next tick */
  size_t n = m->n;
  for (size_t i = 0; i < n; i++) {
    struct tern_mixer_participant *p = m->parts[i];
    if (p->removed)
      continue;
    m->last.participants++;
    input(m, p);
  }
  select_and_mix(m, n);
  encode_all(m, n);
  emit_all(m, n, emit, cb_user);
  age_encoders(m, n);

  struct tern_mixer_totals *t = &m->totals;
  t->ticks++;
  t->encodes += m->last.encodes;
  t->emits += m->last.emits;
  m->in_tick = false;
  if (m->destroy_pending) {
    destroy_now(m);
    return 0;
  }
  if (m->has_removed)
    compact(m);
  return 0;
}
