/* vp8_pack — RFC 7741 payload descriptor, packetizer and frame assembler;
 * see vp8_pack.h. */
#include "rtp/vp8_pack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---------------- descriptor ---------------- */

int tern_vp8_desc_parse(const uint8_t *p, size_t len, struct tern_vp8_desc *d) {
  if (!p || !d || len < 1)
    return -EPROTO;
  memset(d, 0, sizeof(*d));
  size_t off = 1;
  d->n = (p[0] >> 5) & 1;
  d->s = (p[0] >> 4) & 1;
  d->pid = p[0] & 7;
  if (p[0] & 0x80) { /* X: the extension byte follows */
    if (off >= len)
      return -EPROTO;
    uint8_t x = p[off++];
    bool i = x & 0x80, l = x & 0x40, t = x & 0x20, k = x & 0x10;
    if (i) {
      if (off >= len)
        return -EPROTO;
      d->has_picture_id = true;
      if (p[off] & 0x80) { /* M: 15-bit PictureID over two bytes */
        if (off + 1 >= len)
          return -EPROTO;
        d->picture_id_15 = true;
        d->picture_id = (uint16_t)(((p[off] & 0x7f) << 8) | p[off + 1]);
        off += 2;
      } else {
        d->picture_id = p[off] & 0x7f;
        off += 1;
      }
    }
    if (l) {
      if (off >= len)
        return -EPROTO;
      d->has_tl0picidx = true;
      d->tl0picidx = p[off++];
    }
    if (t || k) { /* one shared byte for TID/Y and KEYIDX (§4.2) */
      if (off >= len)
        return -EPROTO;
      uint8_t b = p[off++];
      d->has_tid = t;
      d->tid = t ? b >> 6 : 0;
      d->y = t ? (b >> 5) & 1 : false;
      d->has_keyidx = k;
      d->keyidx = k ? b & 0x1f : 0;
    }
  }
  /* A payload must carry at least one byte of the VP8 frame. */
  if (off >= len)
    return -EPROTO;
  d->size = off;
  return (int)off;
}

int tern_vp8_desc_write(struct tern_vp8_desc *d, uint8_t *out, size_t cap) {
  if (!d || !out || d->pid > 7 || d->tid > 3 || d->keyidx > 31 ||
      (d->has_picture_id && d->picture_id > (d->picture_id_15 ? 0x7fff : 0x7f)))
    return -EINVAL;
  bool x = d->has_picture_id || d->has_tl0picidx || d->has_tid || d->has_keyidx;
  size_t need = 1 + x + (d->has_picture_id ? 1 + d->picture_id_15 : 0) + d->has_tl0picidx +
                (d->has_tid || d->has_keyidx);
  if (cap < need)
    return -ENOSPC;
  size_t off = 0;
  out[off++] = (uint8_t)(x << 7 | d->n << 5 | d->s << 4 | d->pid);
  if (x)
    out[off++] = (uint8_t)(d->has_picture_id << 7 | d->has_tl0picidx << 6 | d->has_tid << 5 |
                           d->has_keyidx << 4);
  if (d->has_picture_id) {
    if (d->picture_id_15) {
      out[off++] = (uint8_t)(0x80 | d->picture_id >> 8);
      out[off++] = (uint8_t)(d->picture_id & 0xff);
    } else {
      out[off++] = (uint8_t)d->picture_id;
    }
  }
  if (d->has_tl0picidx)
    out[off++] = d->tl0picidx;
  if (d->has_tid || d->has_keyidx)
    out[off++] = (uint8_t)((d->has_tid ? d->tid << 6 | d->y << 5 : 0) |
                           (d->has_keyidx ? d->keyidx : 0));
  d->size = off;
  return (int)off;
}

/* RFC 6386 §9.1: frame tag (3 bytes, P = bit 0 of the first, 0 = key
 * frame), then on key frames the start code and two 16-bit little-endian
 * fields of 14-bit size + 2-bit scale. Returns the VP8 data of a key-frame
 * start, or NULL. */
static const uint8_t *keyframe_header(const uint8_t *payload, size_t len) {
  struct tern_vp8_desc d;
  if (tern_vp8_desc_parse(payload, len, &d) < 0 || !d.s || d.pid != 0)
    return NULL;
  const uint8_t *v = payload + d.size;
  size_t n = len - d.size;
  if (n < 10 || (v[0] & 1) != 0)
    return NULL;
  if (v[3] != 0x9d || v[4] != 0x01 || v[5] != 0x2a)
    return NULL;
  return v;
}

bool tern_vp8_is_keyframe(const uint8_t *payload, size_t len) {
  return keyframe_header(payload, len) != NULL;
}

int tern_vp8_keyframe_size(const uint8_t *payload, size_t len, int *width, int *height) {
  const uint8_t *v = keyframe_header(payload, len);
  if (!v)
    return -EPROTO;
  if (width)
    *width = (v[6] | v[7] << 8) & 0x3fff;
  if (height)
    *height = (v[8] | v[9] << 8) & 0x3fff;
  return 0;
}

/* ---------------- packetizer ---------------- */

#define PACK_DESC_SIZE 4 /* X, I with a 15-bit PictureID */

void tern_vp8_packetizer_init(struct tern_vp8_packetizer *p, uint16_t first_picture_id) {
  p->picture_id = first_picture_id & 0x7fff;
}

int tern_vp8_pack_begin(struct tern_vp8_packetizer *p, struct tern_vp8_pack_iter *it,
                        const uint8_t *frame, size_t len, size_t max_payload,
                        bool non_reference) {
  if (!p || !it || !frame || len == 0 || max_payload <= PACK_DESC_SIZE)
    return -EINVAL;
  size_t room = max_payload - PACK_DESC_SIZE;
  size_t count = len / room + (len % room != 0);
  if (count > 65535) /* more than a sequence-number space: nonsense */
    return -EINVAL;
  *it = (struct tern_vp8_pack_iter){
      .frame = frame,
      .len = len,
      .chunk = len / count,
      .extra = len % count,
      .count = count,
      .picture_id = p->picture_id,
      .non_reference = non_reference,
  };
  p->picture_id = (p->picture_id + 1) & 0x7fff;
  return 0;
}

int tern_vp8_pack_next(struct tern_vp8_pack_iter *it, uint8_t *out, size_t cap, bool *marker) {
  if (!it || !out)
    return -EINVAL;
  if (it->index >= it->count)
    return 0;
  size_t n = it->chunk + (it->index < it->extra);
  if (cap < PACK_DESC_SIZE + n)
    return -ENOSPC;
  struct tern_vp8_desc d = {
      .n = it->non_reference,
      .s = it->index == 0,
      .has_picture_id = true,
      .picture_id_15 = true,
      .picture_id = it->picture_id,
  };
  int h = tern_vp8_desc_write(&d, out, cap);
  if (h != PACK_DESC_SIZE)
    return -EINVAL;
  memcpy(out + h, it->frame + it->off, n);
  it->off += n;
  it->index++;
  if (marker)
    *marker = it->index == it->count;
  return (int)(h + n);
}

/* ---------------- assembler ---------------- */

struct slot {
  uint64_t ext; /* extended sequence number; meaningful if used */
  uint32_t ts;
  uint16_t len;
  uint16_t picture_id;
  bool used, start, marker, keyframe, has_picture_id;
};

struct tern_vp8_asm {
  struct slot *slots;
  uint8_t *data; /* slots × TERN_VP8_ASM_MAX_PAYLOAD */
  uint8_t *frame;
  size_t max_frame;
  uint64_t mask, nslots, reorder;
  uint64_t head;    /* extended seq of the next packet to deliver or drop */
  uint64_t highest; /* highest extended seq received */
  uint64_t stale; /* consecutive packets far older than the window */
  uint32_t dropped_ts; /* last frame counted in frames_dropped */
  bool dropped_any;
  bool started, need_keyframe;
  struct tern_vp8_asm_stats stats;
};

struct tern_vp8_asm *tern_vp8_asm_create(unsigned slots, unsigned reorder, size_t max_frame) {
  if (!slots)
    slots = TERN_VP8_ASM_SLOTS;
  if (!reorder)
    reorder = TERN_VP8_ASM_REORDER;
  if (!max_frame)
    max_frame = TERN_VP8_ASM_MAX_FRAME;
  if (slots < 16 || slots > 65536 || (slots & (slots - 1)) || reorder > slots / 2 ||
      max_frame > (64u << 20))
    return NULL;
  struct tern_vp8_asm *a = calloc(1, sizeof(*a));
  if (!a)
    return NULL;
  a->slots = calloc(slots, sizeof(*a->slots));
  a->data = malloc((size_t)slots * TERN_VP8_ASM_MAX_PAYLOAD);
  a->frame = malloc(max_frame);
  if (!a->slots || !a->data || !a->frame) {
    tern_vp8_asm_destroy(a);
    return NULL;
  }
  a->max_frame = max_frame;
  a->nslots = slots;
  a->mask = slots - 1;
  a->reorder = reorder;
  a->need_keyframe = true; /* nothing decodes before the first key frame */
  return a;
}

void tern_vp8_asm_destroy(struct tern_vp8_asm *a) {
  if (!a)
    return;
  free(a->slots);
  free(a->data);
  free(a->frame);
  free(a);
}

bool tern_vp8_asm_need_keyframe(const struct tern_vp8_asm *a) { return a->need_keyframe; }

void tern_vp8_asm_stats(const struct tern_vp8_asm *a, struct tern_vp8_asm_stats *out) {
  *out = a->stats;
}

static struct slot *slot_at(struct tern_vp8_asm *a, uint64_t ext) {
  struct slot *s = &a->slots[ext & a->mask];
  return s->used && s->ext == ext ? s : NULL;
}

static uint8_t *slot_data(struct tern_vp8_asm *a, uint64_t ext) {
  return a->data + (size_t)(ext & a->mask) * TERN_VP8_ASM_MAX_PAYLOAD;
}

/* Counts a frame once however many of its packets are dropped. */
static void count_drop(struct tern_vp8_asm *a, uint32_t ts) {
  if (a->dropped_any && a->dropped_ts == ts)
    return;
  a->dropped_any = true;
  a->dropped_ts = ts;
  a->stats.frames_dropped++;
}

/* Gives up the packet at head (missing or unusable): whatever frame it
 * belonged to cannot be decoded, and neither can what references it. */
static void drop_head(struct tern_vp8_asm *a) {
  struct slot *s = slot_at(a, a->head);
  if (s) {
    count_drop(a, s->ts);
    s->used = false;
  }
  a->head++;
  a->need_keyframe = true;
}

void tern_vp8_asm_reset(struct tern_vp8_asm *a) {
  for (uint64_t i = 0; i < a->nslots; i++)
    a->slots[i].used = false;
  a->started = false;
  a->stale = 0;
  a->need_keyframe = true;
}

int tern_vp8_asm_push(struct tern_vp8_asm *a, const uint8_t *payload, size_t len, uint16_t seq,
                      uint32_t timestamp, bool marker) {
  struct tern_vp8_desc d;
  if (tern_vp8_desc_parse(payload, len, &d) < 0) {
    a->stats.packets_bad++;
    return -EPROTO;
  }
  size_t n = len - d.size;
  if (n > TERN_VP8_ASM_MAX_PAYLOAD) {
    a->stats.packets_bad++;
    return -EMSGSIZE;
  }

  /* Extend the 16-bit sequence number around the highest seen so far; the
   * first one starts high so that reordered earlier packets stay positive. */
  uint64_t ext;
  if (!a->started) {
    ext = (1ull << 32) | seq;
    a->started = true;
    a->head = a->highest = ext;
  } else {
    ext = a->highest + (int64_t)(int16_t)(uint16_t)(seq - (uint16_t)a->highest);
  }
  if (ext < a->head) {
    a->stats.packets_late++;
    /* Far older than anything held, again and again: not reordering but a
     * sender that jumped its numbering by more than 2^15. Start over. */
    if (a->head - ext > a->nslots && ++a->stale >= a->reorder) {
      tern_vp8_asm_reset(a);
      return tern_vp8_asm_push(a, payload, len, seq, timestamp, marker);
    }
    return 0;
  }
  a->stale = 0;
  /* Too far ahead for the window: what lies more than a window behind it
   * is given up (bounded: at most nslots slots are touched). */
  if (ext >= a->head + a->nslots) {
    uint64_t new_head = ext - a->nslots + 1;
    if (new_head - a->head > a->nslots) {
      for (uint64_t i = 0; i < a->nslots; i++)
        a->slots[i].used = false;
      a->need_keyframe = true;
      a->head = new_head;
    }
    while (a->head < new_head)
      drop_head(a);
  }
  struct slot *s = &a->slots[ext & a->mask];
  if (s->used && s->ext == ext) {
    a->stats.packets_late++; /* duplicate */
    return 0;
  }
  *s = (struct slot){
      .ext = ext,
      .ts = timestamp,
      .len = (uint16_t)n,
      .picture_id = d.picture_id,
      .used = true,
      .start = d.s && d.pid == 0,
      .marker = marker,
      .keyframe = tern_vp8_is_keyframe(payload, len),
      .has_picture_id = d.has_picture_id,
  };
  memcpy(slot_data(a, ext), payload + d.size, n);
  if (ext > a->highest)
    a->highest = ext;
  return 0;
}

/* A hole at `ext` is declared lost once enough later packets have come. */
static bool given_up(const struct tern_vp8_asm *a, uint64_t ext) {
  return a->highest >= ext + a->reorder;
}

/* Finds the last packet of the frame starting at head. 1 with *end set;
 * 0 if a packet is still missing (wait); -1 if it is missing for good. */
static int frame_end(struct tern_vp8_asm *a, uint64_t *end) {
  struct slot *first = slot_at(a, a->head);
  uint64_t e = a->head;
  for (;;) {
    struct slot *s = slot_at(a, e);
    if (s->marker)
      break;
    struct slot *nx = slot_at(a, e + 1);
    if (!nx)
      return given_up(a, e + 1) ? -1 : 0;
    /* The next packet is here but belongs to another frame: the sender
     * forgot the marker. Nothing is missing in between, so this frame is
     * whole. */
    if (nx->ts != first->ts)
      break;
    e++;
  }
  *end = e;
  return 1;
}

int tern_vp8_asm_pop(struct tern_vp8_asm *a, struct tern_vp8_frame *out) {
  while (a->started && a->head <= a->highest) {
    struct slot *s = slot_at(a, a->head);
    if (!s) {
      if (!given_up(a, a->head))
        return 0;
      drop_head(a);
      continue;
    }
    if (!s->start) { /* the start of this packet's frame is lost */
      drop_head(a);
      continue;
    }
    uint64_t end;
    int r = frame_end(a, &end);
    if (r == 0)
      return 0;
    if (r < 0) {
      drop_head(a);
      continue;
    }

    size_t total = 0;
    for (uint64_t e = a->head; e <= end; e++)
      total += slot_at(a, e)->len;
    bool usable = total <= a->max_frame && (s->keyframe || !a->need_keyframe);
    struct tern_vp8_frame f = {
        .data = a->frame,
        .len = total,
        .timestamp = s->ts,
        .first_seq = (uint16_t)a->head,
        .last_seq = (uint16_t)end,
        .keyframe = s->keyframe,
        .has_picture_id = s->has_picture_id,
        .picture_id = s->picture_id,
    };
    size_t off = 0;
    for (uint64_t e = a->head; e <= end; e++) {
      struct slot *p = slot_at(a, e);
      if (usable)
        memcpy(a->frame + off, slot_data(a, e), p->len);
      off += p->len;
      p->used = false;
    }
    a->head = end + 1;
    if (!usable) {
      count_drop(a, f.timestamp);
      a->need_keyframe = true;
      continue;
    }
    if (f.keyframe)
      a->need_keyframe = false;
    a->stats.frames++;
    *out = f;
    return 1;
  }
  return 0;
}
