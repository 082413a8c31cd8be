/* rtcp — RTCP compound packets: bounds-checked iteration, parsing, writing.
 *
 * An RTCP datagram is a compound of packets, each with a 4-byte header whose
 * length field counts 32-bit words (RFC 3550 §6.4). tern_rtcp_next walks
 * them, checking the version, that each length stays inside the datagram and
 * that a padding count (P bit) fits; a lie stops the walk with an error, the
 * packets before it stay usable. Reduced-size RTCP (RFC 5506: a lone
 * feedback packet, as browsers send) is accepted: no SR/RR-first rule.
 *
 * Parsers take one packet from the walk and fill a struct. Pointers in the
 * structs point into the caller's buffer (valid while it is unchanged);
 * nothing is allocated. Lists longer than a struct holds are cut at its
 * capacity (counts say how many were present and how many were kept).
 *
 * Writers build one packet into a caller buffer and return its length, or
 * -ENOSPC if it does not fit (nothing useful is left in the buffer then), or
 * -EINVAL for values the format cannot carry. Concatenate their outputs to
 * make a compound packet.
 *
 * Covered: SR, RR (report blocks), SDES (CNAME), BYE (RFC 3550 §6.4–6.6);
 * generic NACK (RFC 4585 §6.2.1), PLI (RFC 4585 §6.3.1), FIR (RFC 5104
 * §4.3.1), REMB (draft-alvestrand-rmcat-remb-03), transport-wide CC feedback
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1: parsed and
 * iterated, not written).
 */
#ifndef TERN_RTCP_H
#define TERN_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
  TERN_RTCP_SR = 200,
  TERN_RTCP_RR = 201,
  TERN_RTCP_SDES = 202,
  TERN_RTCP_BYE = 203,
  TERN_RTCP_APP = 204,
  TERN_RTCP_RTPFB = 205, /* transport-layer feedback: FMT 1 NACK, 15 TWCC */
  TERN_RTCP_PSFB = 206,  /* payload-specific: FMT 1 PLI, 4 FIR, 15 REMB */
};
enum {
  TERN_RTCP_FMT_NACK = 1,
  TERN_RTCP_FMT_TWCC = 15,
  TERN_RTCP_FMT_PLI = 1,
  TERN_RTCP_FMT_FIR = 4,
  TERN_RTCP_FMT_AFB = 15, /* application layer feedback: REMB */
};

#define TERN_RTCP_MAX_COUNT 31 /* the 5-bit count field */
#define TERN_RTCP_REMB_MAX_SSRC 16

/* One packet of a compound. */
struct tern_rtcp_pkt {
  uint8_t type;         /* packet type, 200–206… */
  uint8_t count;        /* RC / SC / FMT: the 5 bits after V and P */
  const uint8_t *data;  /* the whole packet, header included */
  size_t len;           /* 4 × (length field + 1), padding included */
  const uint8_t *body;  /* after the 4-byte header */
  size_t body_len;      /* without padding */
};

struct tern_rtcp_iter {
  const uint8_t *p, *end;
};

void tern_rtcp_iter_init(struct tern_rtcp_iter *it, const uint8_t *buf, size_t len);
/* 1 with the next packet, 0 at the end, -EPROTO for version ≠ 2, -EINVAL
 * for a length or padding that does not fit. After an error the walk ends. */
int tern_rtcp_next(struct tern_rtcp_iter *it, struct tern_rtcp_pkt *pkt);

/* RFC 3550 §6.4.1 report block. */
struct tern_rtcp_report {
  uint32_t ssrc;
  uint8_t fraction_lost;  /* in 1/256 */
  int32_t cumulative_lost; /* 24-bit signed */
  uint32_t highest_seq;   /* extended highest sequence number received */
  uint32_t jitter;
  uint32_t lsr, dlsr;     /* last SR (middle 32 bits of NTP), delay 1/65536 s */
};

/* SR and RR: an RR leaves the sender fields zero. */
struct tern_rtcp_sr {
  uint32_t ssrc;
  uint64_t ntp;           /* SR only: NTP timestamp, 32.32 fixed point */
  uint32_t rtp_ts, packets, octets;
  uint8_t report_count;
  struct tern_rtcp_report reports[TERN_RTCP_MAX_COUNT];
};

struct tern_rtcp_sdes_chunk {
  uint32_t ssrc;
  const char *cname;      /* not NUL-terminated; NULL if the chunk has none */
  uint8_t cname_len;
};
struct tern_rtcp_sdes {
  uint8_t chunk_count;
  struct tern_rtcp_sdes_chunk chunks[TERN_RTCP_MAX_COUNT];
};

struct tern_rtcp_bye {
  uint8_t ssrc_count;
  uint32_t ssrcs[TERN_RTCP_MAX_COUNT];
  const char *reason;     /* not NUL-terminated; NULL if none */
  uint8_t reason_len;
};

/* RFC 4585 §6.1 common feedback header, for RTPFB and PSFB. */
struct tern_rtcp_fb {
  uint8_t type, fmt;
  uint32_t sender_ssrc, media_ssrc;
  const uint8_t *fci;     /* feedback control information */
  size_t fci_len;
};

struct tern_rtcp_fir_entry {
  uint32_t ssrc;
  uint8_t seq;
};

struct tern_rtcp_remb {
  uint64_t bitrate;       /* bits per second: mantissa << exponent */
  uint8_t ssrc_count;     /* as announced (Num SSRC) */
  uint8_t ssrcs_kept;     /* ≤ TERN_RTCP_REMB_MAX_SSRC */
  uint32_t ssrcs[TERN_RTCP_REMB_MAX_SSRC];
};

/* Parsers: 0; -EINVAL if the packet is not of that kind or too short for
 * what its counts announce. */
int tern_rtcp_parse_sr(const struct tern_rtcp_pkt *p, struct tern_rtcp_sr *out);
int tern_rtcp_parse_rr(const struct tern_rtcp_pkt *p, struct tern_rtcp_sr *out);
int tern_rtcp_parse_sdes(const struct tern_rtcp_pkt *p, struct tern_rtcp_sdes *out);
int tern_rtcp_parse_bye(const struct tern_rtcp_pkt *p, struct tern_rtcp_bye *out);
/* Any RTPFB/PSFB packet (NACK, PLI, FIR, REMB, TWCC, …). */
int tern_rtcp_parse_fb(const struct tern_rtcp_pkt *p, struct tern_rtcp_fb *out);

/* Generic NACK: the lost sequence numbers (PID, then PID+i+1 for each set
 * bit i of BLP), up to max of them in packet order. Returns how many were
 * written, or -EINVAL if the FCI is not whole 4-byte entries. */
int tern_rtcp_nack_lost(const struct tern_rtcp_fb *fb, uint16_t *seqs, size_t max);
/* FIR entry i (0-based) of fci_len / 8: 0, or -EINVAL / -ENOENT. */
int tern_rtcp_fir_entry(const struct tern_rtcp_fb *fb, size_t i,
                        struct tern_rtcp_fir_entry *out);
/* PSFB FMT 15 with "REMB": 0, or -EINVAL (also for another AFB message). */
int tern_rtcp_parse_remb(const struct tern_rtcp_fb *fb, struct tern_rtcp_remb *out);

/* Transport-wide CC feedback: the fixed part, then one call per packet
 * status. Init checks the whole chunk list and the deltas against the FCI
 * length, so next only fails on a reserved symbol. */
struct tern_rtcp_twcc {
  uint16_t base_seq, status_count;
  int32_t reference_time; /* 24-bit signed, in 64 ms */
  uint8_t fb_count;
  /* iteration state */
  const uint8_t *chunks, *deltas, *end;
  uint32_t index;         /* statuses returned so far */
  uint16_t chunk;         /* current chunk, and how many of it were used */
  uint16_t chunk_used, chunk_size;
};
int tern_rtcp_twcc_init(struct tern_rtcp_twcc *t, const struct tern_rtcp_fb *fb);
/* 1 with the next status: seq, received, and when received the delta from
 * the previous received packet (or the reference time) in 250 µs units; 0
 * after status_count statuses; -EINVAL on a reserved status symbol. */
int tern_rtcp_twcc_next(struct tern_rtcp_twcc *t, uint16_t *seq, bool *received,
                        int32_t *delta_250us);

/* Writers: the packet length, -ENOSPC, or -EINVAL. */
int tern_rtcp_write_sr(uint8_t *buf, size_t cap, const struct tern_rtcp_sr *sr);
int tern_rtcp_write_rr(uint8_t *buf, size_t cap, const struct tern_rtcp_sr *rr);
/* One chunk with one CNAME item (what WebRTC sends); cname ≤ 255 bytes. */
int tern_rtcp_write_sdes_cname(uint8_t *buf, size_t cap, uint32_t ssrc,
                               const char *cname, size_t cname_len);
int tern_rtcp_write_bye(uint8_t *buf, size_t cap, const uint32_t *ssrcs, size_t n,
                        const char *reason, size_t reason_len);
/* Packs the lost sequence numbers (any order, duplicates allowed) into
 * PID+BLP entries. */
int tern_rtcp_write_nack(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
                         uint32_t media_ssrc, const uint16_t *lost, size_t n);
int tern_rtcp_write_pli(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
                        uint32_t media_ssrc);
int tern_rtcp_write_fir(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
                        const struct tern_rtcp_fir_entry *e, size_t n);
int tern_rtcp_write_remb(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
                         uint64_t bitrate, const uint32_t *ssrcs, size_t n);

#endif
