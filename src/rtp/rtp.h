/* rtp — RTP packets: bounds-checked parsing, header extensions, writing.
 *
 * tern_rtp_parse reads the fixed header, CSRCs, header extension block and
 * padding of one RTP packet (RFC 3550 §5.1) into a struct tern_rtp whose
 * pointers point into the caller's buffer: it copies nothing and allocates
 * nothing, and the struct is valid only while the buffer is unchanged. Every
 * length is checked against the buffer before it is read; a packet that
 * lies about a length is rejected whole.
 *
 * Header extensions (RFC 8285): the one-byte form (profile 0xBEDE, ids
 * 1–14, 1–16 bytes of data) and the two-byte form (profile 0x100X, ids
 * 1–255, 0–255 bytes). Iteration skips padding bytes, stops at id 15 in the
 * one-byte form (RFC 8285 §4.2) and rejects an element running past the
 * block. Extensions WebRTC uses, and what their data is:
 *   mid (RFC 8843 §15)                    the MID string
 *   ssrc-audio-level (RFC 6464)           1 byte: V flag, level 0–127 (-dBov)
 *   abs-send-time (webrtc.org)            3 bytes: seconds in 6.18 fixed point
 *   transport-wide-cc (draft-holmer-…-01) 2 bytes: transport sequence number
 * The ids are negotiated per session with a=extmap; map URIs with
 * tern_rtp_ext_kind_from_uri.
 *
 * Writing: tern_rtp_writer builds a packet into a caller buffer (header,
 * CSRCs, extensions, payload), choosing the one-byte extension form unless an
 * element needs the two-byte form, in which case elements already written
 * are converted. Every write is checked against the capacity (-ENOSPC).
 *
 * The in-place accessors (tern_rtp_seq, tern_rtp_set_ssrc, …) need a buffer
 * of at least TERN_RTP_HEADER_LEN bytes (i.e. a packet tern_rtp_parse or
 * tern_rtp_is_rtp accepted) and touch only the fixed header.
 *
 * Demultiplexing (RFC 5761 §4, RFC 7983): once the first byte said RTP/RTCP,
 * tern_rtp_is_rtcp tells RTCP by the second byte: RTCP packet types 192–223
 * occupy what would be RTP payload types 64–95, which RTP must not use.
 *
 * RFCs: 3550 (RTP), 3551 (payload types), 8285 (header extensions), 6464
 * (audio level), 5761 (RTP/RTCP mux), 7983 (demux).
 */
#ifndef TERN_RTP_H
#define TERN_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TERN_RTP_HEADER_LEN 12
#define TERN_RTP_MAX_CSRC 15

#define TERN_RTP_EXT_PROFILE_ONE_BYTE 0xBEDE
#define TERN_RTP_EXT_PROFILE_TWO_BYTE 0x1000 /* low 4 bits: app bits */

#define TERN_RTP_EXT_URI_MID "urn:ietf:params:rtp-hdrext:sdes:mid"
#define TERN_RTP_EXT_URI_AUDIO_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define TERN_RTP_EXT_URI_ABS_SEND_TIME \
  "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
#define TERN_RTP_EXT_URI_TRANSPORT_CC \
  "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

enum tern_rtp_ext_kind {
  TERN_RTP_EXT_UNKNOWN = 0,
  TERN_RTP_EXT_MID,
  TERN_RTP_EXT_AUDIO_LEVEL,
  TERN_RTP_EXT_ABS_SEND_TIME,
  TERN_RTP_EXT_TRANSPORT_CC,
};

/* A parsed packet; pointers into the parsed buffer. */
struct tern_rtp {
  bool padding, extension, marker;
  uint8_t csrc_count;
  uint8_t payload_type;
  uint16_t seq;
  uint32_t timestamp, ssrc;
  const uint8_t *csrcs;     /* csrc_count × 4 bytes, big-endian */
  uint16_t ext_profile;     /* when extension: 0xBEDE, 0x100X or other */
  const uint8_t *ext;       /* extension data after its 4-byte header */
  size_t ext_len;           /* in bytes (a multiple of 4) */
  size_t header_len;        /* fixed header + CSRCs + extension block */
  const uint8_t *payload;   /* between the header and the padding */
  size_t payload_len;
  uint8_t padding_len;      /* including the count byte itself */
};

/* Cheap checks before parsing. is_rtp: at least a fixed header, version 2,
 * not RTCP. is_rtcp: version 2, at least 4 bytes, payload-type bits of the
 * second byte 64–95 (RTCP types 192–223 with the marker bit). */
bool tern_rtp_is_rtp(const uint8_t *buf, size_t len);
bool tern_rtp_is_rtcp(const uint8_t *buf, size_t len);

/* 0, or -EINVAL if truncated or a length lies (CSRCs, extension, padding
 * count of 0 or larger than the payload), -EPROTO if the version is not 2. */
int tern_rtp_parse(const uint8_t *buf, size_t len, struct tern_rtp *out);

/* Iterating extension elements of a parsed packet. */
struct tern_rtp_ext_iter {
  const uint8_t *p, *end;
  bool two_byte;
};
/* 0, or -ENOENT if the packet has no RFC 8285 extension block. */
int tern_rtp_ext_iter_init(struct tern_rtp_ext_iter *it, const struct tern_rtp *pkt);
/* 1 with the next element, 0 at the end, -EINVAL if an element overruns. */
int tern_rtp_ext_next(struct tern_rtp_ext_iter *it, uint8_t *id,
                      const uint8_t **data, size_t *len);
/* The first element with this id: 0, -ENOENT, or -EINVAL (malformed block). */
int tern_rtp_ext_find(const struct tern_rtp *pkt, uint8_t id,
                      const uint8_t **data, size_t *len);

enum tern_rtp_ext_kind tern_rtp_ext_kind_from_uri(const char *uri);

/* Values of the known extensions. Readers: 0 or -EINVAL on a wrong length. */
int tern_rtp_ext_read_audio_level(const uint8_t *d, size_t len, bool *voice,
                                  uint8_t *level);
int tern_rtp_ext_read_abs_send_time(const uint8_t *d, size_t len, uint32_t *t24);
int tern_rtp_ext_read_transport_cc(const uint8_t *d, size_t len, uint16_t *seq);
/* abs-send-time of a time in microseconds: 24 bits of 6.18 fixed-point
 * seconds (wraps every 64 s). */
uint32_t tern_rtp_abs_send_time(uint64_t us);

/* Building a packet. */
#define TERN_RTP_WRITER_MAX_EXT 32 /* elements per packet */
struct tern_rtp_writer {
  uint8_t *buf;
  size_t cap, len;
  size_t ext_start;   /* offset of the 4-byte extension header, 0 if none */
  unsigned ext_count; /* elements written */
  bool two_byte;
  bool header_done;   /* extension block padded and closed */
  int err;            /* first error; sticks */
};

/* Writes the fixed header: -ENOSPC if cap < 12, -EINVAL if pt > 127. */
int tern_rtp_writer_init(struct tern_rtp_writer *w, uint8_t *buf, size_t cap,
                         uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
                         bool marker);
/* Before any extension or payload: -EINVAL after them or beyond 15. */
int tern_rtp_writer_add_csrc(struct tern_rtp_writer *w, uint32_t csrc);
/* One element; ids 1–14 with 1–16 bytes use the one-byte form, anything
 * else (ids 15–255, 0 or 17–255 bytes) the two-byte form. -EINVAL for id 0,
 * len > 255, more than TERN_RTP_WRITER_MAX_EXT elements, or after the
 * payload started; -ENOSPC. */
int tern_rtp_writer_add_ext(struct tern_rtp_writer *w, uint8_t id,
                            const void *data, size_t len);
/* Appends payload bytes (closing the header on first use): 0 or -ENOSPC. */
int tern_rtp_writer_payload(struct tern_rtp_writer *w, const void *data, size_t len);
/* Room to write n payload bytes in place (e.g. an encoder's output): a
 * pointer, counted as written, or NULL if it does not fit. */
uint8_t *tern_rtp_writer_reserve(struct tern_rtp_writer *w, size_t n);
/* Closes the packet: its length, or the first error met (-ENOSPC, -EINVAL). */
int tern_rtp_writer_finish(struct tern_rtp_writer *w);

/* In-place accessors of the fixed header (buffer ≥ 12 bytes). */
static inline uint16_t tern_rtp_seq(const uint8_t *b) {
  return (uint16_t)(b[2] << 8 | b[3]);
}
static inline uint32_t tern_rtp_timestamp(const uint8_t *b) {
  return (uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7];
}
static inline uint32_t tern_rtp_ssrc(const uint8_t *b) {
  return (uint32_t)b[8] << 24 | (uint32_t)b[9] << 16 | (uint32_t)b[10] << 8 | b[11];
}
static inline uint8_t tern_rtp_payload_type(const uint8_t *b) { return b[1] & 0x7f; }
static inline bool tern_rtp_marker(const uint8_t *b) { return b[1] & 0x80; }
static inline void tern_rtp_set_seq(uint8_t *b, uint16_t v) {
  b[2] = (uint8_t)(v >> 8), b[3] = (uint8_t)v;
}
static inline void tern_rtp_set_timestamp(uint8_t *b, uint32_t v) {
  b[4] = (uint8_t)(v >> 24), b[5] = (uint8_t)(v >> 16);
  b[6] = (uint8_t)(v >> 8), b[7] = (uint8_t)v;
}
static inline void tern_rtp_set_ssrc(uint8_t *b, uint32_t v) {
  b[8] = (uint8_t)(v >> 24), b[9] = (uint8_t)(v >> 16);
  b[10] = (uint8_t)(v >> 8), b[11] = (uint8_t)v;
}
static inline void tern_rtp_set_payload_type(uint8_t *b, uint8_t pt) {
  b[1] = (uint8_t)((b[1] & 0x80) | (pt & 0x7f));
}
static inline void tern_rtp_set_marker(uint8_t *b, bool m) {
  b[1] = (uint8_t)((b[1] & 0x7f) | (m ? 0x80 : 0));
}

#endif
