/* opus_pack — the Opus RTP payload format (RFC 7587).
 *
 * An Opus RTP payload is exactly one Opus packet, unchanged: no payload
 * header, no fragmentation (an Opus packet is at most 1275 bytes per frame
 * and fits an MTU). What a sender still needs is the RTP timestamp: the
 * RTP clock is always 48 kHz whatever bandwidth the encoder used, and
 * advances by the packet's duration: 960 per 20 ms. The duration is read
 * from the packet's TOC byte (RFC 6716 §3.1), so this module needs no
 * libopus and also serves forwarders that never decode.
 *
 * Everything here is a pure function of its inputs or of a caller-owned
 * struct: no allocation, no state shared between streams.
 */
#ifndef TERN_RTP_OPUS_PACK_H
#define TERN_RTP_OPUS_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TERN_OPUS_RTP_CLOCK 48000
#define TERN_OPUS_RTP_TS_20MS 960

/* RFC 6716 §3.1: what the TOC byte (and, for code 3, the frame count byte)
 * say about a packet. */
struct tern_opus_toc {
  uint8_t config;      /* 0..31: mode + bandwidth + frame size */
  bool stereo;         /* the s bit */
  uint8_t code;        /* 0..3: frame-count code */
  int frames;          /* frames in the packet, 1..48 */
  int frame_samples;   /* per frame, at 48 kHz: 120 (2.5 ms) .. 2880 (60 ms) */
  int samples;         /* frames × frame_samples, at most 5760 (120 ms) */
};

/* Parses the TOC of an Opus packet. 0, or -EPROTO if it is empty, a code 3
 * packet without its count byte, with a zero count, or longer than 120 ms. */
int tern_opus_parse_toc(const uint8_t *pkt, size_t len, struct tern_opus_toc *toc);
/* The packet's duration in 48 kHz samples (= RTP timestamp increment), or
 * -EPROTO. */
int tern_opus_packet_samples(const uint8_t *pkt, size_t len);

/* Timestamps of an outgoing Opus stream. */
struct tern_opus_packetizer {
  uint32_t next_ts; /* timestamp of the next packet */
};

/* base_ts should be random (RFC 3550 §5.1). */
void tern_opus_packetizer_init(struct tern_opus_packetizer *p, uint32_t base_ts);
/* The RTP timestamp for this packet; advances by its duration. A packet
 * whose TOC does not parse advances by 20 ms. The payload is pkt itself. */
uint32_t tern_opus_packetizer_next(struct tern_opus_packetizer *p, const uint8_t *pkt,
                                   size_t len);
/* For a paced source (media/clock.h): frame n of frame_samples each. Wraps
 * modulo 2^32 like every RTP timestamp. */
static inline uint32_t tern_opus_rtp_ts(uint32_t base_ts, uint64_t frame_index,
                                        uint32_t frame_samples) {
  return base_ts + (uint32_t)(frame_index * frame_samples);
}

#endif
