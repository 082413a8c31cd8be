/* vp8_pack — the VP8 RTP payload format (RFC 7741): descriptor codec,
 * keyframe detection, packetizer, and a frame assembler for receivers.
 *
 * An RTP payload is a VP8 payload descriptor followed by a piece of one
 * encoded frame (RFC 7741 §4.2):
 *
 *        0 1 2 3 4 5 6 7
 *       +-+-+-+-+-+-+-+-+
 *       |X|R|N|S|R| PID | (REQUIRED)
 *       +-+-+-+-+-+-+-+-+
 *  X:   |I|L|T|K| RSV   | (OPTIONAL)
 *       +-+-+-+-+-+-+-+-+
 *  I:   |M| PictureID   | (OPTIONAL; M = 1: 15-bit PictureID, two bytes)
 *       +-+-+-+-+-+-+-+-+
 *       |   PictureID   |
 *       +-+-+-+-+-+-+-+-+
 *  L:   |   TL0PICIDX   | (OPTIONAL)
 *       +-+-+-+-+-+-+-+-+
 *  T/K: |TID|Y| KEYIDX  | (OPTIONAL; present if T or K)
 *       +-+-+-+-+-+-+-+-+
 *
 * S = 1 marks the first packet of a partition, PID its index; the frame
 * starts at S = 1, PID = 0, where the VP8 frame header begins (RFC 6386
 * §9.1): a 3-byte frame tag whose bit 0 (P) is 0 for a key frame, then, for
 * key frames only, the start code 9d 01 2a and 14-bit width and height.
 * The last packet of a frame has the RTP marker bit set; every packet of a
 * frame carries the same RTP timestamp.
 *
 * Parsing never reads past `len`; a descriptor that is truncated, or that
 * leaves no VP8 bytes after it, is -EPROTO. R bits are ignored (§4.2).
 *
 * Lifetimes: the descriptor functions and the packetizer are pure or work
 * on caller-owned structs. The assembler allocates its slots once at
 * create; push and pop never allocate, lock or log.
 */
#ifndef TERN_RTP_VP8_PACK_H
#define TERN_RTP_VP8_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TERN_VP8_RTP_CLOCK 90000
/* Largest descriptor: 1 + X + 2-byte PictureID + TL0PICIDX + TID/KEYIDX. */
#define TERN_VP8_DESC_MAX 6

struct tern_vp8_desc {
  bool n;          /* non-reference frame: may be dropped without harm */
  bool s;          /* start of a partition */
  uint8_t pid;     /* partition index, 0..7 */
  bool has_picture_id;
  bool picture_id_15; /* 15-bit (M = 1) rather than 7-bit */
  uint16_t picture_id;
  bool has_tl0picidx;
  uint8_t tl0picidx;
  bool has_tid; /* T: TID and Y are meaningful */
  uint8_t tid;  /* 0..3 */
  bool y;       /* layer sync */
  bool has_keyidx;
  uint8_t keyidx; /* 0..31 */
  size_t size;    /* bytes of descriptor (parse: read; write: written) */
};

/* Parses the descriptor at the start of an RTP payload. Returns its size
 * (1..6; the VP8 data starts there), or -EPROTO if truncated or if no VP8
 * data follows it. */
int tern_vp8_desc_parse(const uint8_t *payload, size_t len, struct tern_vp8_desc *d);
/* Writes d (X is set iff any optional field is present; a 7-bit PictureID
 * is written if !picture_id_15, so it must be < 128). Returns the size, or
 * -ENOSPC / -EINVAL. d->size is set. */
int tern_vp8_desc_write(struct tern_vp8_desc *d, uint8_t *out, size_t cap);

/* True if this RTP payload begins a VP8 key frame: S = 1, PID = 0, the frame
 * tag's P bit is 0, and (so that garbage never passes for a key frame and
 * wrongly satisfies a keyframe request) the key-frame start code is there. */
bool tern_vp8_is_keyframe(const uint8_t *payload, size_t len);
/* Width and height (14 bits each, scaling bits dropped) of a key frame from
 * its first RTP payload; 0 or -EPROTO (not a key-frame start). */
int tern_vp8_keyframe_size(const uint8_t *payload, size_t len, int *width, int *height);

/* -------- packetizer (sender) -------- */

/* One per outgoing stream: the 15-bit PictureID increments per frame. */
struct tern_vp8_packetizer {
  uint16_t picture_id;
};

/* Start from a random PictureID (RFC 7741 §4.2 suggests it). */
void tern_vp8_packetizer_init(struct tern_vp8_packetizer *p, uint16_t first_picture_id);

/* Splits one encoded frame: iterate with next() until it returns 0. */
struct tern_vp8_pack_iter {
  const uint8_t *frame;
  size_t len, off;
  size_t chunk, extra; /* payload sizes: `extra` chunks get one byte more */
  size_t index, count;
  uint16_t picture_id;
  bool non_reference;
};

/* max_payload is the largest RTP payload to produce (e.g. 1200 − RTP header
 * and extensions); it must exceed the 4-byte descriptor. Payloads come out
 * evenly sized (they differ by at most one byte), which spreads loss risk
 * and keeps packets alike for pacing. non_reference sets N. 0, or -EINVAL
 * (empty frame, max_payload <= 4, or more than 65535 packets). */
int tern_vp8_pack_begin(struct tern_vp8_packetizer *p, struct tern_vp8_pack_iter *it,
                        const uint8_t *frame, size_t len, size_t max_payload,
                        bool non_reference);
/* Writes the next payload (descriptor + data) into out. Returns its length,
 * 0 when the frame is done, or -ENOSPC if cap is below max_payload's share.
 * *marker is set on the last payload (the RTP marker bit). */
int tern_vp8_pack_next(struct tern_vp8_pack_iter *it, uint8_t *out, size_t cap, bool *marker);
/* Number of payloads the frame is split into. */
static inline size_t tern_vp8_pack_count(const struct tern_vp8_pack_iter *it) {
  return it->count;
}

/* -------- assembler (receiver) -------- */

/* Default reorder tolerance: a hole is declared lost once a packet this many
 * sequence numbers past it has arrived. */
#define TERN_VP8_ASM_REORDER 16
/* Default slots (the largest frame in packets) and frame size. */
#define TERN_VP8_ASM_SLOTS 256
#define TERN_VP8_ASM_MAX_FRAME (256 * 1024)
/* Largest RTP payload kept (bigger ones are rejected with -EMSGSIZE). */
#define TERN_VP8_ASM_MAX_PAYLOAD 1500

struct tern_vp8_frame {
  const uint8_t *data; /* the VP8 frame, descriptors stripped; valid until the next push/pop */
  size_t len;
  uint32_t timestamp;
  uint16_t first_seq, last_seq;
  bool keyframe;
  bool has_picture_id;
  uint16_t picture_id;
};

struct tern_vp8_asm_stats {
  uint64_t frames;          /* delivered */
  uint64_t frames_dropped;  /* incomplete, oversize, or waiting for a key frame
                             * (frames of which at least one packet arrived) */
  uint64_t packets_late;    /* before the delivery point (too late or duplicates) */
  uint64_t packets_bad;     /* malformed descriptors */
};

struct tern_vp8_asm;

/* slots: power of two, 16..65536 (0 = default), bounds a frame's size in
 * packets and how far ahead packets are kept; each costs
 * TERN_VP8_ASM_MAX_PAYLOAD bytes (the defaults make ≈ 640 KiB in all).
 * reorder: 1..slots/2 (0 = default); max_frame: bytes (0 = default). NULL
 * on bad arguments or no memory. */
struct tern_vp8_asm *tern_vp8_asm_create(unsigned slots, unsigned reorder, size_t max_frame);
void tern_vp8_asm_destroy(struct tern_vp8_asm *a);

/* Forgets every stored packet and starts over as if new (need_keyframe
 * true; stats kept). Call it when the stream's SSRC changes. */
void tern_vp8_asm_reset(struct tern_vp8_asm *a);

/* Stores one received RTP payload. 0; -EPROTO (bad descriptor), -EMSGSIZE
 * (payload over TERN_VP8_ASM_MAX_PAYLOAD) — counted and otherwise ignored;
 * late or duplicate packets return 0 and are counted. A jump of more than
 * half the sequence space looks like very old packets; after `reorder` of
 * those in a row the assembler resets itself (the sender restarted). */
int tern_vp8_asm_push(struct tern_vp8_asm *a, const uint8_t *payload, size_t len, uint16_t seq,
                      uint32_t timestamp, bool marker);

/* Delivers the next complete frame in sequence order: 1 and *out filled,
 * or 0 if none is ready. Call in a loop after each push. A frame with a
 * missing packet is waited for until `reorder` later packets have arrived,
 * then dropped. After a drop (and at the start) only a key frame is
 * delivered: delta frames that reference what was lost are dropped too, and
 * need_keyframe() is true until a key frame comes out. */
int tern_vp8_asm_pop(struct tern_vp8_asm *a, struct tern_vp8_frame *out);

/* True while the receiver cannot decode without a key frame: the app should
 * send PLI (throttled). */
bool tern_vp8_asm_need_keyframe(const struct tern_vp8_asm *a);
void tern_vp8_asm_stats(const struct tern_vp8_asm *a, struct tern_vp8_asm_stats *out);

#endif
