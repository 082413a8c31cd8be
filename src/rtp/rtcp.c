/* rtcp.c — RTCP compound walk, parsers and writers. See rtcp.h. */
#include "rtp/rtcp.h"

#include <errno.h>
#include <string.h>

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd24(const uint8_t *p) {
  return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}
static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }
static void wr24(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 16), p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)v;
}
static void wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}
static int32_t sext24(uint32_t v) {
  return (v & 0x800000) ? (int32_t)(v | 0xff000000u) : (int32_t)v;
}

/* ---- the compound walk -------------------------------------------------- */

void tern_rtcp_iter_init(struct tern_rtcp_iter *it, const uint8_t *buf, size_t len) {
  it->p = buf;
  it->end = buf + len;
}

/*  0                   1                   2                   3
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P| RC/FMT  |      PT       |    length (words − 1)         |
 */
int tern_rtcp_next(struct tern_rtcp_iter *it, struct tern_rtcp_pkt *pkt) {
  size_t left = (size_t)(it->end - it->p);
  if (left == 0)
    return 0;
  int rc = -EINVAL;
  if (left < 4)
    goto stop;
  const uint8_t *b = it->p;
  if ((b[0] >> 6) != 2) {
    rc = -EPROTO;
    goto stop;
  }
  size_t len = 4 * ((size_t)rd16(b + 2) + 1);
  if (len > left)
    goto stop;
  size_t pad = 0;
  if (b[0] & 0x20) {
    pad = b[len - 1];
    if (pad == 0 || pad > len - 4)
      goto stop;
  }
  pkt->type = b[1];
  pkt->count = b[0] & 0x1f;
  pkt->data = b;
  pkt->len = len;
  pkt->body = b + 4;
  pkt->body_len = len - 4 - pad;
  it->p += len;
  return 1;
stop:
  it->p = it->end;
  return rc;
}

/* ---- SR / RR -------------------------------------------------------------- */

static void read_report(const uint8_t *b, struct tern_rtcp_report *r) {
  r->ssrc = rd32(b);
  r->fraction_lost = b[4];
  r->cumulative_lost = sext24(rd24(b + 5));
  r->highest_seq = rd32(b + 8);
  r->jitter = rd32(b + 12);
  r->lsr = rd32(b + 16);
  r->dlsr = rd32(b + 20);
}

static int read_reports(const uint8_t *b, size_t len, uint8_t n,
                        struct tern_rtcp_sr *out) {
  if (len < 24u * n)
    return -EINVAL;
  for (uint8_t i = 0; i < n; i++)
    read_report(b + 24u * i, &out->reports[i]);
  out->report_count = n;
  return 0;
}

int tern_rtcp_parse_sr(const struct tern_rtcp_pkt *p, struct tern_rtcp_sr *out) {
  if (p->type != TERN_RTCP_SR || p->body_len < 24)
    return -EINVAL;
  memset(out, 0, offsetof(struct tern_rtcp_sr, reports));
  const uint8_t *b = p->body;
  out->ssrc = rd32(b);
  out->ntp = (uint64_t)rd32(b + 4) << 32 | rd32(b + 8);
  out->rtp_ts = rd32(b + 12);
  out->packets = rd32(b + 16);
  out->octets = rd32(b + 20);
  return read_reports(b + 24, p->body_len - 24, p->count, out);
}

int tern_rtcp_parse_rr(const struct tern_rtcp_pkt *p, struct tern_rtcp_sr *out) {
  if (p->type != TERN_RTCP_RR || p->body_len < 4)
    return -EINVAL;
  memset(out, 0, offsetof(struct tern_rtcp_sr, reports));
  out->ssrc = rd32(p->body);
  return read_reports(p->body + 4, p->body_len - 4, p->count, out);
}

/* ---- SDES, BYE ------------------------------------------------------------ */

#define SDES_END 0
#define SDES_CNAME 1

int tern_rtcp_parse_sdes(const struct tern_rtcp_pkt *p, struct tern_rtcp_sdes *out) {
  if (p->type != TERN_RTCP_SDES)
    return -EINVAL;
  const uint8_t *b = p->body;
  size_t len = p->body_len, o = 0;
  out->chunk_count = 0;
  for (uint8_t c = 0; c < p->count; c++) {
    struct tern_rtcp_sdes_chunk *ch = &out->chunks[c];
    if (len - o < 4)
      return -EINVAL;
    ch->ssrc = rd32(b + o);
    ch->cname = NULL;
    ch->cname_len = 0;
    o += 4;
    for (;;) {
      if (o >= len)
        return -EINVAL; /* the item list must end with a null octet */
      if (b[o] == SDES_END) {
        /* Null octets up to the next 32-bit boundary end the chunk. */
        o = (o + 4) & ~(size_t)3;
        if (o > len)
          o = len;
        break;
      }
      if (len - o < 2 || len - o - 2 < b[o + 1])
        return -EINVAL;
      if (b[o] == SDES_CNAME && !ch->cname) {
        ch->cname = (const char *)b + o + 2;
        ch->cname_len = b[o + 1];
      }
      o += 2 + (size_t)b[o + 1];
    }
    out->chunk_count = c + 1;
  }
  return 0;
}

int tern_rtcp_parse_bye(const struct tern_rtcp_pkt *p, struct tern_rtcp_bye *out) {
  if (p->type != TERN_RTCP_BYE || p->body_len < 4u * p->count)
    return -EINVAL;
  for (uint8_t i = 0; i < p->count; i++)
    out->ssrcs[i] = rd32(p->body + 4u * i);
  out->ssrc_count = p->count;
  out->reason = NULL;
  out->reason_len = 0;
  size_t o = 4u * p->count, left = p->body_len - o;
  if (left > 0) {
    uint8_t n = p->body[o];
    if (left - 1 < n)
      return -EINVAL;
    out->reason = (const char *)p->body + o + 1;
    out->reason_len = n;
  }
  return 0;
}

/* ---- feedback (RFC 4585 §6.1) ------------------------------------------- */

int tern_rtcp_parse_fb(const struct tern_rtcp_pkt *p, struct tern_rtcp_fb *out) {
  if ((p->type != TERN_RTCP_RTPFB && p->type != TERN_RTCP_PSFB) || p->body_len < 8)
    return -EINVAL;
  out->type = p->type;
  out->fmt = p->count;
  out->sender_ssrc = rd32(p->body);
  out->media_ssrc = rd32(p->body + 4);
  out->fci = p->body + 8;
  out->fci_len = p->body_len - 8;
  return 0;
}

/*  |            PID                |             BLP               | */
int tern_rtcp_nack_lost(const struct tern_rtcp_fb *fb, uint16_t *seqs, size_t max) {
  if (fb->type != TERN_RTCP_RTPFB || fb->fmt != TERN_RTCP_FMT_NACK ||
      fb->fci_len % 4)
    return -EINVAL;
  size_t n = 0;
  for (size_t o = 0; o < fb->fci_len && n < max; o += 4) {
    uint16_t pid = rd16(fb->fci + o), blp = rd16(fb->fci + o + 2);
    seqs[n++] = pid;
    for (unsigned i = 0; i < 16 && n < max; i++)
      if (blp & (1u << i))
        seqs[n++] = (uint16_t)(pid + i + 1);
  }
  return (int)n;
}

/*  |                              SSRC                             |
 *  | Seq nr.       |    Reserved                                   | */
int tern_rtcp_fir_entry(const struct tern_rtcp_fb *fb, size_t i,
                        struct tern_rtcp_fir_entry *out) {
  if (fb->type != TERN_RTCP_PSFB || fb->fmt != TERN_RTCP_FMT_FIR)
    return -EINVAL;
  if (i >= fb->fci_len / 8)
    return -ENOENT;
  out->ssrc = rd32(fb->fci + 8 * i);
  out->seq = fb->fci[8 * i + 4];
  return 0;
}

/*  |  Unique identifier 'R' 'E' 'M' 'B'                            |
 *  |  Num SSRC     | BR Exp    |  BR Mantissa                      |
 *  |   SSRC feedback                                               | … */
int tern_rtcp_parse_remb(const struct tern_rtcp_fb *fb, struct tern_rtcp_remb *out) {
  if (fb->type != TERN_RTCP_PSFB || fb->fmt != TERN_RTCP_FMT_AFB || fb->fci_len < 8 ||
      memcmp(fb->fci, "REMB", 4) != 0)
    return -EINVAL;
  const uint8_t *f = fb->fci;
  uint8_t num = f[4], exp = f[5] >> 2;
  uint64_t mant = (uint64_t)(f[5] & 3) << 16 | (uint64_t)f[6] << 8 | f[7];
  if (fb->fci_len - 8 < 4u * num)
    return -EINVAL;
  /* An 18-bit mantissa shifted by up to 63 overflows 64 bits: saturate. */
  if (mant && exp > 63 - 17 && (mant >> (64 - exp)) != 0)
    out->bitrate = UINT64_MAX;
  else
    out->bitrate = mant << exp;
  out->ssrc_count = num;
  out->ssrcs_kept = num < TERN_RTCP_REMB_MAX_SSRC ? num : TERN_RTCP_REMB_MAX_SSRC;
  for (uint8_t i = 0; i < out->ssrcs_kept; i++)
    out->ssrcs[i] = rd32(f + 8 + 4u * i);
  return 0;
}

/* ---- transport-wide CC feedback ----------------------------------------- */

/* Statuses a chunk holds: a run length (13 bits) or 14 / 7 symbols. */
static uint16_t chunk_size(uint16_t c) {
  if (!(c & 0x8000))
    return c & 0x1fff;
  return (c & 0x4000) ? 7 : 14;
}

/* Symbol i of a chunk: 0 not received, 1 small delta, 2 large, 3 reserved. */
static unsigned chunk_symbol(uint16_t c, unsigned i) {
  if (!(c & 0x8000))
    return (c >> 13) & 3;
  if (c & 0x4000)
    return (c >> (12 - 2 * i)) & 3;
  return (c >> (13 - i)) & 1;
}

/*  |      base sequence number     |      packet status count      |
 *  |                 reference time                | fb pkt. count |
 *  |          packet chunk         |         packet chunk          | …
 *  |         packet chunk          |  recv delta   |  recv delta   | … */
int tern_rtcp_twcc_init(struct tern_rtcp_twcc *t, const struct tern_rtcp_fb *fb) {
  if (fb->type != TERN_RTCP_RTPFB || fb->fmt != TERN_RTCP_FMT_TWCC || fb->fci_len < 8)
    return -EINVAL;
  const uint8_t *f = fb->fci, *end = fb->fci + fb->fci_len;
  memset(t, 0, sizeof(*t));
  t->base_seq = rd16(f);
  t->status_count = rd16(f + 2);
  t->reference_time = sext24(rd24(f + 4));
  t->fb_count = f[7];
  /* Walk the chunks once: they must cover status_count statuses, and the
   * deltas they announce must fit in what follows. */
  const uint8_t *p = f + 8;
  uint32_t covered = 0;
  size_t delta_bytes = 0;
  while (covered < t->status_count) {
    if (end - p < 2)
      return -EINVAL;
    uint16_t c = rd16(p);
    p += 2;
    uint32_t n = chunk_size(c);
    if (n > t->status_count - covered)
      n = t->status_count - covered;
    for (uint32_t i = 0; i < n; i++) {
      unsigned s = chunk_symbol(c, (c & 0x8000) ? i : 0);
      if (s == 3)
        return -EINVAL;
      delta_bytes += s; /* small: 1 byte, large: 2 bytes */
    }
    covered += n;
  }
  if ((size_t)(end - p) < delta_bytes)
    return -EINVAL;
  t->chunks = f + 8;
  t->deltas = p;
  t->end = end;
  return 0;
}

int tern_rtcp_twcc_next(struct tern_rtcp_twcc *t, uint16_t *seq, bool *received,
                        int32_t *delta_250us) {
  if (t->index >= t->status_count)
    return 0;
  while (t->chunk_used >= t->chunk_size) { /* init proved the chunks exist */
    t->chunk = rd16(t->chunks);
    t->chunks += 2;
    t->chunk_size = chunk_size(t->chunk);
    t->chunk_used = 0;
  }
  unsigned s = chunk_symbol(t->chunk, t->chunk_used);
  t->chunk_used++;
  *seq = (uint16_t)(t->base_seq + t->index);
  t->index++;
  *received = s == 1 || s == 2;
  *delta_250us = 0;
  if (s == 1) {
    *delta_250us = t->deltas[0];
    t->deltas += 1;
  } else if (s == 2) {
    *delta_250us = (int16_t)rd16(t->deltas);
    t->deltas += 2;
  } else if (s == 3) {
    return -EINVAL;
  }
  return 1;
}

/* ---- writers -------------------------------------------------------------- */

static void write_header(uint8_t *b, uint8_t count, uint8_t type, size_t len) {
  b[0] = (uint8_t)(0x80 | count);
  b[1] = type;
  wr16(b + 2, (uint16_t)(len / 4 - 1));
}

static void write_report(uint8_t *b, const struct tern_rtcp_report *r) {
  int32_t cl = r->cumulative_lost;
  if (cl > 0x7fffff)
    cl = 0x7fffff;
  if (cl < -0x800000)
    cl = -0x800000;
  wr32(b, r->ssrc);
  b[4] = r->fraction_lost;
  wr24(b + 5, (uint32_t)cl & 0xffffff);
  wr32(b + 8, r->highest_seq);
  wr32(b + 12, r->jitter);
  wr32(b + 16, r->lsr);
  wr32(b + 20, r->dlsr);
}

int tern_rtcp_write_sr(uint8_t *buf, size_t cap, const struct tern_rtcp_sr *sr) {
  if (sr->report_count > TERN_RTCP_MAX_COUNT)
    return -EINVAL;
  size_t len = 28 + 24u * sr->report_count;
  if (cap < len)
    return -ENOSPC;
  write_header(buf, sr->report_count, TERN_RTCP_SR, len);
  wr32(buf + 4, sr->ssrc);
  wr32(buf + 8, (uint32_t)(sr->ntp >> 32));
  wr32(buf + 12, (uint32_t)sr->ntp);
  wr32(buf + 16, sr->rtp_ts);
  wr32(buf + 20, sr->packets);
  wr32(buf + 24, sr->octets);
  for (uint8_t i = 0; i < sr->report_count; i++)
    write_report(buf + 28 + 24u * i, &sr->reports[i]);
  return (int)len;
}

int tern_rtcp_write_rr(uint8_t *buf, size_t cap, const struct tern_rtcp_sr *rr) {
  if (rr->report_count > TERN_RTCP_MAX_COUNT)
    return -EINVAL;
  size_t len = 8 + 24u * rr->report_count;
  if (cap < len)
    return -ENOSPC;
  write_header(buf, rr->report_count, TERN_RTCP_RR, len);
  wr32(buf + 4, rr->ssrc);
  for (uint8_t i = 0; i < rr->report_count; i++)
    write_report(buf + 8 + 24u * i, &rr->reports[i]);
  return (int)len;
}

int tern_rtcp_write_sdes_cname(uint8_t *buf, size_t cap, uint32_t ssrc,
                               const char *cname, size_t cname_len) {
  if (cname_len > 255)
    return -EINVAL;
  /* header, SSRC, CNAME item, then ≥ 1 null octet up to a word boundary */
  size_t len = (4 + 4 + 2 + cname_len + 1 + 3) & ~(size_t)3;
  if (cap < len)
    return -ENOSPC;
  write_header(buf, 1, TERN_RTCP_SDES, len);
  wr32(buf + 4, ssrc);
  buf[8] = SDES_CNAME;
  buf[9] = (uint8_t)cname_len;
  if (cname_len)
    memcpy(buf + 10, cname, cname_len);
  memset(buf + 10 + cname_len, 0, len - 10 - cname_len);
  return (int)len;
}

int tern_rtcp_write_bye(uint8_t *buf, size_t cap, const uint32_t *ssrcs, size_t n,
                        const char *reason, size_t reason_len) {
  if (n > TERN_RTCP_MAX_COUNT || reason_len > 255)
    return -EINVAL;
  size_t rlen = reason_len ? (1 + reason_len + 3) & ~(size_t)3 : 0;
  size_t len = 4 + 4 * n + rlen;
  if (cap < len)
    return -ENOSPC;
  write_header(buf, (uint8_t)n, TERN_RTCP_BYE, len);
  for (size_t i = 0; i < n; i++)
    wr32(buf + 4 + 4 * i, ssrcs[i]);
  if (reason_len) {
    uint8_t *r = buf + 4 + 4 * n;
    r[0] = (uint8_t)reason_len;
    memcpy(r + 1, reason, reason_len);
    memset(r + 1 + reason_len, 0, rlen - 1 - reason_len);
  }
  return (int)len;
}

static int write_fb(uint8_t *buf, size_t cap, uint8_t type, uint8_t fmt,
                    uint32_t sender, uint32_t media, size_t fci_len) {
  size_t len = 12 + fci_len;
  if (cap < len)
    return -ENOSPC;
  write_header(buf, fmt, type, len);
  wr32(buf + 4, sender);
  wr32(buf + 8, media);
  return (int)len;
}

int tern_rtcp_write_nack(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
                         uint32_t media_ssrc, const uint16_t *lost, size_t n) {
  if (n == 0)
    return -EINVAL;
  if (cap < 16)
    return -ENOSPC;
  /* Entries are built in place after the header: each lost seq joins an
   * entry whose PID is at most 16 before it, or starts a new one. */
  uint8_t *fci = buf + 12;
  size_t entries = 0, room = (cap - 12) / 4;
  for (size_t i = 0; i < n; i++) {
    size_t e;
    for (e = 0; e < entries; e++) {
      uint16_t d = (uint16_t)(lost[i] - rd16(fci + 4 * e));
      if (d == 0)
        break;
      if (d <= 16) {
        wr16(fci + 4 * e + 2, (uint16_t)(rd16(fci + 4 * e + 2) | 1u << (d - 1)));
        break;
      }
    }
    if (e < entries)
      continue;
    if (entries == room)
      return -ENOSPC;
    wr16(fci + 4 * entries, lost[i]);
    wr16(fci + 4 * entries + 2, 0);
    entries++;
  }
  return write_fb(buf, cap, TERN_RTCP_RTPFB, TERN_RTCP_FMT_NACK, sender_ssrc,
                  media_ssrc, 4 * entries);
}

int tern_rtcp_write_pli(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
                        uint32_t media_ssrc) {
  return write_fb(buf, cap, TERN_RTCP_PSFB, TERN_RTCP_FMT_PLI, sender_ssrc,
                  media_ssrc, 0);
}

int tern_rtcp_write_fir(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
                        const struct tern_rtcp_fir_entry *e, size_t n) {
  if (n == 0 || n > 8191)
    return -EINVAL;
  /* RFC 5104 §4.3.1.2: the media source SSRC is unused and 0. */
  int len = write_fb(buf, cap, TERN_RTCP_PSFB, TERN_RTCP_FMT_FIR, sender_ssrc, 0, 8 * n);
  if (len < 0)
    return len;
  for (size_t i = 0; i < n; i++) {
    uint8_t *f = buf + 12 + 8 * i;
    wr32(f, e[i].ssrc);
    f[4] = e[i].seq;
    f[5] = f[6] = f[7] = 0;
  }
  return len;
}

int tern_rtcp_write_remb(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
                         uint64_t bitrate, const uint32_t *ssrcs, size_t n) {
  if (n > 255)
    return -EINVAL;
  int len = write_fb(buf, cap, TERN_RTCP_PSFB, TERN_RTCP_FMT_AFB, sender_ssrc, 0,
                     8 + 4 * n);
  if (len < 0)
    return len;
  /* Smallest exponent that fits the mantissa in 18 bits (rounds down). */
  unsigned exp = 0;
  while ((bitrate >> exp) > 0x3ffff)
    exp++;
  uint32_t mant = (uint32_t)(bitrate >> exp);
  uint8_t *f = buf + 12;
  memcpy(f, "REMB", 4);
  f[4] = (uint8_t)n;
  f[5] = (uint8_t)(exp << 2 | mant >> 16);
  wr16(f + 6, (uint16_t)mant);
  for (size_t i = 0; i < n; i++)
    wr32(f + 8 + 4 * i, ssrcs[i]);
  return len;
}
