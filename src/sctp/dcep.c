/* dcep.c — DATA_CHANNEL_OPEN / DATA_CHANNEL_ACK codec (RFC 8832 §5). */
#include "sctp/dcep.h"

#include <errno.h>

#define CHANNEL_UNORDERED 0x80

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

static void wr16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

int tern_dcep_type(const uint8_t *buf, size_t len) {
  return len ? buf[0] : -EPROTO;
}

int tern_dcep_decode_open(const uint8_t *buf, size_t len,
                          struct tern_dcep_open *out) {
  if (len < TERN_DCEP_OPEN_HEADER || buf[0] != TERN_DCEP_OPEN)
    return -EPROTO;
  uint8_t type = buf[1];
  switch (type & ~CHANNEL_UNORDERED) {
  case TERN_DCEP_RELIABLE:
  case TERN_DCEP_REXMIT:
  case TERN_DCEP_TIMED:
    break;
  default:
    return -EPROTO;
  }
  uint16_t label_len = rd16(buf + 8);
  uint16_t protocol_len = rd16(buf + 10);
  /* Both lengths are 16-bit, so the sum cannot overflow size_t. */
  if ((size_t)label_len + protocol_len > len - TERN_DCEP_OPEN_HEADER)
    return -EPROTO;
  out->ordered = !(type & CHANNEL_UNORDERED);
  out->reliability = (enum tern_dcep_reliability)(type & ~CHANNEL_UNORDERED);
  out->priority = rd16(buf + 2);
  out->reliability_param = rd32(buf + 4);
  out->label = (const char *)buf + TERN_DCEP_OPEN_HEADER;
  out->label_len = label_len;
  out->protocol = out->label + label_len;
  out->protocol_len = protocol_len;
  return 0;
}

size_t tern_dcep_open_size(const struct tern_dcep_open *o) {
  return TERN_DCEP_OPEN_HEADER + (size_t)o->label_len + o->protocol_len;
}

int tern_dcep_encode_open(const struct tern_dcep_open *o, uint8_t *buf,
                          size_t cap) {
  if (o->reliability != TERN_DCEP_RELIABLE &&
      o->reliability != TERN_DCEP_REXMIT && o->reliability != TERN_DCEP_TIMED)
    return -EINVAL;
  size_t n = tern_dcep_open_size(o);
  if (cap < n)
    return -ENOSPC;
  buf[0] = TERN_DCEP_OPEN;
  buf[1] = (uint8_t)o->reliability | (o->ordered ? 0 : CHANNEL_UNORDERED);
  wr16(buf + 2, o->priority);
  wr32(buf + 4,
       o->reliability == TERN_DCEP_RELIABLE ? 0 : o->reliability_param);
  wr16(buf + 8, o->label_len);
  wr16(buf + 10, o->protocol_len);
  uint8_t *p = buf + TERN_DCEP_OPEN_HEADER;
  for (uint16_t i = 0; i < o->label_len; i++)
    *p++ = (uint8_t)o->label[i];
  for (uint16_t i = 0; i < o->protocol_len; i++)
    *p++ = (uint8_t)o->protocol[i];
  return (int)n;
}

int tern_dcep_decode_ack(const uint8_t *buf, size_t len) {
  return len >= 1 && buf[0] == TERN_DCEP_ACK ? 0 : -EPROTO;
}

int tern_dcep_encode_ack(uint8_t *buf, size_t cap) {
  if (cap < 1)
    return -ENOSPC;
  buf[0] = TERN_DCEP_ACK;
  return 1;
}
