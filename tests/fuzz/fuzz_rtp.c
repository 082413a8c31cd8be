/* fuzz_rtp — what arrives after SRTP on the media port: RTP headers with
 * RFC 8285 extensions, compound RTCP with every feedback type, and VP8
 * payloads (descriptor parse, keyframe test, frame assembly across packets).
 *
 * The first byte picks the view; the rest is the packet. Properties besides
 * the sanitizers: a parsed RTP packet's header, payload and padding add up
 * to its length and its payload lies inside it; extension elements lie
 * inside the extension block; every RTCP packet of a walk lies inside the
 * compound; a VP8 frame popped from the assembler is never longer than its
 * cap. */
#include "fuzz.h"
#include "rtp/rtcp.h"
#include "rtp/rtp.h"
#include "rtp/vp8_pack.h"

static struct tern_vp8_asm *assembler;

static void fuzz_rtp_packet(const uint8_t *b, size_t n) {
  struct tern_rtp r;
  if (tern_rtp_parse(b, n, &r) < 0)
    return;
  FUZZ_ASSERT(r.header_len + r.payload_len + r.padding_len == n, "lengths %zu+%zu+%u != %zu",
              r.header_len, r.payload_len, r.padding_len, n);
  FUZZ_ASSERT(r.payload >= b && r.payload + r.payload_len <= b + n, "payload outside");
  struct tern_rtp_ext_iter it;
  if (tern_rtp_ext_iter_init(&it, &r) == 0) {
    uint8_t id;
    const uint8_t *d;
    size_t len;
    int guard = 0;
    while (tern_rtp_ext_next(&it, &id, &d, &len) == 1 && guard++ < 4096) {
      FUZZ_ASSERT(d >= r.ext && d + len <= r.ext + r.ext_len, "extension element outside");
      bool voice;
      uint8_t level;
      uint32_t t24;
      uint16_t seq;
      tern_rtp_ext_read_audio_level(d, len, &voice, &level);
      tern_rtp_ext_read_abs_send_time(d, len, &t24);
      tern_rtp_ext_read_transport_cc(d, len, &seq);
    }
  }
  /* The same payload as VP8, through descriptor, keyframe test, assembly. */
  struct tern_vp8_desc desc;
  tern_vp8_desc_parse(r.payload, r.payload_len, &desc);
  int w, h;
  tern_vp8_keyframe_size(r.payload, r.payload_len, &w, &h);
  tern_vp8_is_keyframe(r.payload, r.payload_len);
  if (tern_vp8_asm_push(assembler, r.payload, r.payload_len, r.seq, r.timestamp, r.marker) >= 0) {
    struct tern_vp8_frame f;
    int guard = 0;
    while (tern_vp8_asm_pop(assembler, &f) == 1 && guard++ < 64)
      FUZZ_ASSERT(f.len <= 4u << 20, "frame of %zu bytes", f.len);
  }
}

static void fuzz_rtcp(const uint8_t *b, size_t n) {
  struct tern_rtcp_iter it;
  struct tern_rtcp_pkt p;
  tern_rtcp_iter_init(&it, b, n);
  int guard = 0;
  while (tern_rtcp_next(&it, &p) == 1 && guard++ < 4096) {
    FUZZ_ASSERT(p.data >= b && p.data + p.len <= b + n, "packet outside the compound");
    struct tern_rtcp_sr sr;
    struct tern_rtcp_sdes sdes;
    struct tern_rtcp_bye bye;
    struct tern_rtcp_fb fb;
    tern_rtcp_parse_sr(&p, &sr);
    tern_rtcp_parse_rr(&p, &sr);
    tern_rtcp_parse_sdes(&p, &sdes);
    tern_rtcp_parse_bye(&p, &bye);
    if (tern_rtcp_parse_fb(&p, &fb) < 0)
      continue;
    uint16_t lost[512];
    tern_rtcp_nack_lost(&fb, lost, sizeof lost / sizeof lost[0]);
    struct tern_rtcp_fir_entry fir;
    for (size_t i = 0; i < 8 && tern_rtcp_fir_entry(&fb, i, &fir) == 0; i++)
      ;
    struct tern_rtcp_remb remb;
    tern_rtcp_parse_remb(&fb, &remb);
    struct tern_rtcp_twcc tw;
    if (tern_rtcp_twcc_init(&tw, &fb) == 0) {
      uint16_t seq;
      bool received;
      int32_t delta;
      int steps = 0;
      while (tern_rtcp_twcc_next(&tw, &seq, &received, &delta) == 1 && steps++ < 70000)
        ;
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!assembler)
    assembler = tern_vp8_asm_create(0, 0, 0);
  if (size < 1)
    return 0;
  uint8_t *copy = malloc(size - 1 ? size - 1 : 1); /* exact size: ASan sees over-reads */
  memcpy(copy, data + 1, size - 1);
  if (data[0] & 1)
    fuzz_rtcp(copy, size - 1);
  else
    fuzz_rtp_packet(copy, size - 1);
  free(copy);
  return 0;
}
