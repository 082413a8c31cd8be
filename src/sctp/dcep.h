/* dcep — the Data Channel Establishment Protocol codec (RFC 8832).
 *
 * Pure functions, no allocation: decode points into the caller's buffer
 * (label and protocol are NOT NUL-terminated), encode writes into the
 * caller's buffer. Every length is checked before it is read.
 *
 * DATA_CHANNEL_OPEN (RFC 8832 §5.1), sent with ppid 50 on the new stream:
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  Message Type |  Channel Type |            Priority           |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Reliability Parameter                      |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |         Label Length          |       Protocol Length         |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                             Label ...                         |
 *  |                            Protocol ...                       |
 *
 * Message type 0x03. Channel type: 0x00 reliable, 0x01 partial reliable by
 * retransmissions, 0x02 partial reliable by lifetime (ms); +0x80 unordered.
 * DATA_CHANNEL_ACK (§5.2) is the single byte 0x02.
 */
#ifndef TERN_DCEP_H
#define TERN_DCEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
  TERN_DCEP_ACK = 0x02,
  TERN_DCEP_OPEN = 0x03,
};

#define TERN_DCEP_OPEN_HEADER 12

enum tern_dcep_reliability {
  TERN_DCEP_RELIABLE = 0x00,
  TERN_DCEP_REXMIT = 0x01, /* reliability parameter: max retransmissions */
  TERN_DCEP_TIMED = 0x02,  /* reliability parameter: max lifetime in ms */
};

/* Priorities of RFC 8831 §6.4 / W3C RTCPriorityType. */
enum {
  TERN_DCEP_PRIORITY_BELOW_NORMAL = 128,
  TERN_DCEP_PRIORITY_NORMAL = 256,
  TERN_DCEP_PRIORITY_HIGH = 512,
  TERN_DCEP_PRIORITY_EXTRA_HIGH = 1024,
};

struct tern_dcep_open {
  bool ordered;
  enum tern_dcep_reliability reliability;
  uint32_t reliability_param; /* 0 for reliable channels */
  uint16_t priority;
  const char *label; /* label_len bytes, not NUL-terminated */
  uint16_t label_len;
  const char *protocol;
  uint16_t protocol_len;
};

/* The message type (first byte), or -EPROTO if buf is empty. */
int tern_dcep_type(const uint8_t *buf, size_t len);

/* Decodes an OPEN. Returns 0, or -EPROTO when truncated, the lengths run past
 * the buffer, the message type is not OPEN or the channel type is unknown.
 * Bytes after the protocol are ignored (as Pion and usrsctp users do). */
int tern_dcep_decode_open(const uint8_t *buf, size_t len,
                          struct tern_dcep_open *out);

/* Bytes an OPEN with these label/protocol lengths takes. */
size_t tern_dcep_open_size(const struct tern_dcep_open *o);

/* Encodes an OPEN. Returns the size written, -ENOSPC if cap is too small, or
 * -EINVAL for an unknown reliability. */
int tern_dcep_encode_open(const struct tern_dcep_open *o, uint8_t *buf,
                          size_t cap);

/* An ACK is valid when it is at least the type byte 0x02 (0 or -EPROTO). */
int tern_dcep_decode_ack(const uint8_t *buf, size_t len);
/* Writes the one-byte ACK: returns 1 or -ENOSPC. */
int tern_dcep_encode_ack(uint8_t *buf, size_t cap);

#endif
