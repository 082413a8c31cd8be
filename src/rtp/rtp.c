/* rtp.c — RTP parsing, RFC 8285 extensions, writer. See rtp.h. */
#include "rtp/rtp.h"

#include <errno.h>
#include <string.h>

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }
static void wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* RFC 5761 §4: RTCP packet types 192–223 read as marker + payload type
 * 64–95, which RTP must not use; so the payload-type field alone decides
 * (a byte of 64–95 without the marker is not valid RTP either). */
bool tern_rtp_is_rtcp(const uint8_t *buf, size_t len) {
  if (len < 4 || (buf[0] >> 6) != 2)
    return false;
  uint8_t pt = buf[1] & 0x7f;
  return pt >= 64 && pt <= 95;
}

bool tern_rtp_is_rtp(const uint8_t *buf, size_t len) {
  if (len < TERN_RTP_HEADER_LEN || (buf[0] >> 6) != 2)
    return false;
  uint8_t pt = buf[1] & 0x7f;
  return pt < 64 || pt > 95;
}

/*  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * |                           timestamp                           |
 * |           synchronization source (SSRC) identifier            |
 * |            contributing source (CSRC) identifiers             |
 * |                             ....                              |
 * |      defined by profile       |           length              |  if X
 * |                        header extension                       |
 * |                             ....                              |
 */
int tern_rtp_parse(const uint8_t *buf, size_t len, struct tern_rtp *out) {
  if (len < TERN_RTP_HEADER_LEN)
    return -EINVAL;
  if ((buf[0] >> 6) != 2)
    return -EPROTO;
  memset(out, 0, sizeof(*out));
  out->padding = buf[0] & 0x20;
  out->extension = buf[0] & 0x10;
  out->csrc_count = buf[0] & 0x0f;
  out->marker = buf[1] & 0x80;
  out->payload_type = buf[1] & 0x7f;
  out->seq = rd16(buf + 2);
  out->timestamp = rd32(buf + 4);
  out->ssrc = rd32(buf + 8);
  size_t h = TERN_RTP_HEADER_LEN;
  if (out->csrc_count) {
    if (len - h < 4u * out->csrc_count)
      return -EINVAL;
    out->csrcs = buf + h;
    h += 4u * out->csrc_count;
  }
  if (out->extension) {
    if (len - h < 4)
      return -EINVAL;
    out->ext_profile = rd16(buf + h);
    size_t ext_len = 4u * rd16(buf + h + 2);
    h += 4;
    if (len - h < ext_len)
      return -EINVAL;
    out->ext = buf + h;
    out->ext_len = ext_len;
    h += ext_len;
  }
  size_t pad = 0;
  if (out->padding) {
    /* The count includes itself, so 0 is a lie, and it may not reach into
     * the header. */
    if (len == h)
      return -EINVAL;
    pad = buf[len - 1];
    if (pad == 0 || pad > len - h)
      return -EINVAL;
  }
  out->header_len = h;
  out->payload = buf + h;
  out->payload_len = len - h - pad;
  out->padding_len = (uint8_t)pad;
  return 0;
}

/* ---- RFC 8285 extensions ----------------------------------------------- */

int tern_rtp_ext_iter_init(struct tern_rtp_ext_iter *it, const struct tern_rtp *pkt) {
  it->p = it->end = NULL;
  it->two_byte = false;
  if (!pkt->extension)
    return -ENOENT;
  if (pkt->ext_profile == TERN_RTP_EXT_PROFILE_ONE_BYTE)
    it->two_byte = false;
  else if ((pkt->ext_profile & 0xfff0) == TERN_RTP_EXT_PROFILE_TWO_BYTE)
    it->two_byte = true;
  else
    return -ENOENT;
  it->p = pkt->ext;
  it->end = pkt->ext + pkt->ext_len;
  return 0;
}

int tern_rtp_ext_next(struct tern_rtp_ext_iter *it, uint8_t *id,
                      const uint8_t **data, size_t *len) {
  while (it->p && it->p < it->end) {
    uint8_t b = *it->p;
    if (b == 0) { /* padding between or after elements, both forms */
      it->p++;
      continue;
    }
    size_t n, hdr;
    if (!it->two_byte) {
      /* RFC 8285 §4.2: id 15 means stop and ignore the rest; id 0 with a
       * length is no valid element either, so treat it the same way. */
      if ((b >> 4) == 15 || (b >> 4) == 0) {
        it->p = it->end;
        return 0;
      }
      *id = b >> 4;
      n = (size_t)(b & 0x0f) + 1;
      hdr = 1;
    } else {
      if (it->end - it->p < 2)
        return -EINVAL;
      *id = b;
      n = it->p[1];
      hdr = 2;
    }
    if ((size_t)(it->end - it->p) - hdr < n)
      return -EINVAL;
    *data = it->p + hdr;
    *len = n;
    it->p += hdr + n;
    return 1;
  }
  return 0;
}

int tern_rtp_ext_find(const struct tern_rtp *pkt, uint8_t id,
                      const uint8_t **data, size_t *len) {
  struct tern_rtp_ext_iter it;
  if (id == 0 || tern_rtp_ext_iter_init(&it, pkt) < 0)
    return -ENOENT;
  uint8_t eid;
  int rc;
  while ((rc = tern_rtp_ext_next(&it, &eid, data, len)) > 0)
    if (eid == id)
      return 0;
  return rc < 0 ? rc : -ENOENT;
}

enum tern_rtp_ext_kind tern_rtp_ext_kind_from_uri(const char *uri) {
  if (!uri)
    return TERN_RTP_EXT_UNKNOWN;
  if (!strcmp(uri, TERN_RTP_EXT_URI_MID))
    return TERN_RTP_EXT_MID;
  if (!strcmp(uri, TERN_RTP_EXT_URI_AUDIO_LEVEL))
    return TERN_RTP_EXT_AUDIO_LEVEL;
  if (!strcmp(uri, TERN_RTP_EXT_URI_ABS_SEND_TIME))
    return TERN_RTP_EXT_ABS_SEND_TIME;
  if (!strcmp(uri, TERN_RTP_EXT_URI_TRANSPORT_CC))
    return TERN_RTP_EXT_TRANSPORT_CC;
  return TERN_RTP_EXT_UNKNOWN;
}

int tern_rtp_ext_read_audio_level(const uint8_t *d, size_t len, bool *voice,
                                  uint8_t *level) {
  /* RFC 6464 §3: one byte; some senders pad the element to 4 bytes. */
  if (len < 1 || len > 4)
    return -EINVAL;
  *voice = d[0] & 0x80;
  *level = d[0] & 0x7f;
  return 0;
}

int tern_rtp_ext_read_abs_send_time(const uint8_t *d, size_t len, uint32_t *t24) {
  if (len != 3)
    return -EINVAL;
  *t24 = (uint32_t)d[0] << 16 | (uint32_t)d[1] << 8 | d[2];
  return 0;
}

int tern_rtp_ext_read_transport_cc(const uint8_t *d, size_t len, uint16_t *seq) {
  if (len != 2)
    return -EINVAL;
  *seq = rd16(d);
  return 0;
}

uint32_t tern_rtp_abs_send_time(uint64_t us) {
  /* 6.18 fixed point: seconds << 18, keeping the low 24 bits. Split to
   * avoid overflowing us << 18 for large clocks. */
  uint64_t s = us / 1000000, frac = us % 1000000;
  return (uint32_t)(((s << 18) + (frac << 18) / 1000000) & 0xffffff);
}

/* ---- writer --------------------------------------------------------------- */

static int wfail(struct tern_rtp_writer *w, int err) {
  if (!w->err)
    w->err = err;
  return err;
}

int tern_rtp_writer_init(struct tern_rtp_writer *w, uint8_t *buf, size_t cap,
                         uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
                         bool marker) {
  memset(w, 0, sizeof(*w));
  w->buf = buf;
  w->cap = cap;
  if (pt > 127)
    return wfail(w, -EINVAL);
  if (cap < TERN_RTP_HEADER_LEN)
    return wfail(w, -ENOSPC);
  buf[0] = 0x80;
  buf[1] = (uint8_t)((marker ? 0x80 : 0) | pt);
  wr16(buf + 2, seq);
  wr32(buf + 4, ts);
  wr32(buf + 8, ssrc);
  w->len = TERN_RTP_HEADER_LEN;
  return 0;
}

int tern_rtp_writer_add_csrc(struct tern_rtp_writer *w, uint32_t csrc) {
  if (w->err)
    return w->err;
  if (w->ext_start || w->header_done || (w->buf[0] & 0x0f) == TERN_RTP_MAX_CSRC)
    return wfail(w, -EINVAL);
  if (w->cap - w->len < 4)
    return wfail(w, -ENOSPC);
  wr32(w->buf + w->len, csrc);
  w->len += 4;
  w->buf[0]++;
  return 0;
}

/* Rewrites the one-byte elements written so far in the two-byte form, in
 * place. Element i grows by one header byte and so moves right by i bytes
 * (its data by i + 1): moving from the last one never overwrites unread
 * bytes. */
static int convert_to_two_byte(struct tern_rtp_writer *w) {
  size_t offs[TERN_RTP_WRITER_MAX_EXT];
  unsigned n = 0;
  if (w->cap - w->len < w->ext_count)
    return -ENOSPC;
  for (size_t p = w->ext_start + 4; p < w->len; n++) {
    offs[n] = p;
    p += 2 + (size_t)(w->buf[p] & 0x0f);
  }
  for (unsigned i = n; i-- > 0;) {
    uint8_t b = w->buf[offs[i]];
    size_t dlen = (size_t)(b & 0x0f) + 1, at = offs[i] + i;
    memmove(w->buf + at + 2, w->buf + offs[i] + 1, dlen);
    w->buf[at] = b >> 4;
    w->buf[at + 1] = (uint8_t)dlen;
  }
  w->len += n;
  w->two_byte = true;
  wr16(w->buf + w->ext_start, TERN_RTP_EXT_PROFILE_TWO_BYTE);
  return 0;
}

int tern_rtp_writer_add_ext(struct tern_rtp_writer *w, uint8_t id,
                            const void *data, size_t len) {
  if (w->err)
    return w->err;
  if (id == 0 || len > 255 || w->header_done ||
      w->ext_count == TERN_RTP_WRITER_MAX_EXT)
    return wfail(w, -EINVAL);
  bool one_ok = id <= 14 && len >= 1 && len <= 16;
  if (!w->ext_start) {
    if (w->cap - w->len < 4)
      return wfail(w, -ENOSPC);
    w->ext_start = w->len;
    wr16(w->buf + w->len, one_ok ? TERN_RTP_EXT_PROFILE_ONE_BYTE
                                 : TERN_RTP_EXT_PROFILE_TWO_BYTE);
    wr16(w->buf + w->len + 2, 0);
    w->len += 4;
    w->two_byte = !one_ok;
    w->buf[0] |= 0x10;
  } else if (!one_ok && !w->two_byte) {
    int rc = convert_to_two_byte(w);
    if (rc < 0)
      return wfail(w, rc);
  }
  size_t hdr = w->two_byte ? 2 : 1;
  if (w->cap - w->len < hdr + len)
    return wfail(w, -ENOSPC);
  uint8_t *p = w->buf + w->len;
  if (w->two_byte) {
    p[0] = id;
    p[1] = (uint8_t)len;
  } else {
    p[0] = (uint8_t)(id << 4 | (len - 1));
  }
  if (len)
    memcpy(p + hdr, data, len);
  w->len += hdr + len;
  w->ext_count++;
  return 0;
}

/* Pads the extension block to 32-bit words and writes its length. */
static int close_header(struct tern_rtp_writer *w) {
  if (w->header_done)
    return 0;
  if (w->ext_start) {
    size_t body = w->len - w->ext_start - 4;
    size_t pad = (4 - body % 4) % 4;
    if (w->cap - w->len < pad)
      return wfail(w, -ENOSPC);
    memset(w->buf + w->len, 0, pad);
    w->len += pad;
    wr16(w->buf + w->ext_start + 2, (uint16_t)((body + pad) / 4));
  }
  w->header_done = true;
  return 0;
}

int tern_rtp_writer_payload(struct tern_rtp_writer *w, const void *data, size_t len) {
  uint8_t *p = tern_rtp_writer_reserve(w, len);
  if (!p)
    return w->err;
  if (len)
    memcpy(p, data, len);
  return 0;
}

uint8_t *tern_rtp_writer_reserve(struct tern_rtp_writer *w, size_t n) {
  if (w->err || close_header(w) < 0)
    return NULL;
  if (w->cap - w->len < n) {
    wfail(w, -ENOSPC);
    return NULL;
  }
  uint8_t *p = w->buf + w->len;
  w->len += n;
  return p;
}

int tern_rtp_writer_finish(struct tern_rtp_writer *w) {
  if (w->err)
    return w->err;
  if (close_header(w) < 0)
    return w->err;
  return (int)w->len;
}
