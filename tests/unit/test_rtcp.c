/* test_rtcp — compound walk, every parser and writer, malformed input.
 *
 * Real packets: a Firefox compound (RR, SDES, BYE, PLI, RRR) from a packet
 * dump published in Pion's test suite, and a Chromium transport-cc feedback
 * decoded by Wireshark (olivermichel/webrtc-analysis test data): bytes are
 * facts. The rest is crafted by hand from the RFC diagrams. Malformed input
 * is walked from exact-size heap copies so ASan sees any over-read.
 */
#include <errno.h>
#include <stdlib.h>

#include "rtp/rtcp.h"
#include "test.h"

static const uint8_t firefox_compound[] = {
    /* RR, RC=1 */
    0x81, 0xc9, 0x00, 0x07, 0x90, 0x2f, 0x9e, 0x2e, 0xbc, 0x5e, 0x9a, 0x40,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46, 0xe1, 0x00, 0x00, 0x01, 0x11,
    0x09, 0xf3, 0x64, 0x32, 0x00, 0x02, 0x4a, 0x79,
    /* SDES, one chunk with a 38-byte CNAME */
    0x81, 0xca, 0x00, 0x0c, 0x90, 0x2f, 0x9e, 0x2e, 0x01, 0x26,
    '{', '9', 'c', '0', '0', 'e', 'b', '9', '2', '-', '1', 'a', 'f', 'b', '-', '9',
    'd', '4', '9', '-', 'a', '4', '7', 'd', '-', '9', '1', 'f', '6', '4', 'e', 'e',
    'e', '6', '9', 'f', '5', '}', 0x00, 0x00, 0x00, 0x00,
    /* BYE */
    0x81, 0xcb, 0x00, 0x01, 0x90, 0x2f, 0x9e, 0x2e,
    /* PLI */
    0x81, 0xce, 0x00, 0x02, 0x90, 0x2f, 0x9e, 0x2e, 0x90, 0x2f, 0x9e, 0x2e,
    /* RTPFB FMT 5 (RRR): not ours, still walked */
    0x85, 0xcd, 0x00, 0x02, 0x90, 0x2f, 0x9e, 0x2e, 0x90, 0x2f, 0x9e, 0x2e,
};

static const uint8_t chrome_twcc[] = {
    0xaf, 0xcd, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01, 0xdd, 0x58, 0x6e, 0xb6,
    0x00, 0x01, 0x00, 0x09, 0x5e, 0x91, 0x10, 0x00, 0x20, 0x09, 0x1c, 0x0c,
    0x2c, 0x38, 0x00, 0x04, 0x00, 0x08, 0x18, 0x01,
};

/* Copies to an exact-size buffer that lives until the next call. */
static uint8_t *exact_buf;
static const uint8_t *exact(const uint8_t *b, size_t n) {
  free(exact_buf);
  exact_buf = malloc(n ? n : 1);
  memcpy(exact_buf, b, n);
  return exact_buf;
}

static int first(const uint8_t *b, size_t n, struct tern_rtcp_pkt *p) {
  struct tern_rtcp_iter it;
  tern_rtcp_iter_init(&it, b, n);
  return tern_rtcp_next(&it, p);
}

static void test_firefox_compound(void) {
  const uint8_t *b = exact(firefox_compound, sizeof(firefox_compound));
  struct tern_rtcp_iter it;
  struct tern_rtcp_pkt p;
  tern_rtcp_iter_init(&it, b, sizeof(firefox_compound));

  REQUIRE(tern_rtcp_next(&it, &p) == 1);
  struct tern_rtcp_sr rr;
  REQUIRE(tern_rtcp_parse_rr(&p, &rr) == 0);
  CHECK_EQ_INT(rr.ssrc, 0x902f9e2e);
  CHECK_EQ_INT(rr.report_count, 1);
  CHECK_EQ_INT(rr.reports[0].ssrc, 0xbc5e9a40);
  CHECK_EQ_INT(rr.reports[0].highest_seq, 0x46e1);
  CHECK_EQ_INT(rr.reports[0].jitter, 273);
  CHECK_EQ_INT(rr.reports[0].lsr, 0x9f36432);
  CHECK_EQ_INT(rr.reports[0].dlsr, 150137);
  CHECK_EQ_INT(tern_rtcp_parse_sr(&p, &rr), -EINVAL);

  REQUIRE(tern_rtcp_next(&it, &p) == 1);
  struct tern_rtcp_sdes sd;
  REQUIRE(tern_rtcp_parse_sdes(&p, &sd) == 0);
  CHECK_EQ_INT(sd.chunk_count, 1);
  CHECK_EQ_INT(sd.chunks[0].ssrc, 0x902f9e2e);
  REQUIRE(sd.chunks[0].cname);
  CHECK_EQ_INT(sd.chunks[0].cname_len, 38);
  CHECK(memcmp(sd.chunks[0].cname, "{9c00eb92-1afb-9d49-a47d-91f64eee69f5}", 38) == 0);

  REQUIRE(tern_rtcp_next(&it, &p) == 1);
  struct tern_rtcp_bye bye;
  REQUIRE(tern_rtcp_parse_bye(&p, &bye) == 0);
  CHECK_EQ_INT(bye.ssrc_count, 1);
  CHECK_EQ_INT(bye.ssrcs[0], 0x902f9e2e);
  CHECK(bye.reason == NULL);

  REQUIRE(tern_rtcp_next(&it, &p) == 1);
  struct tern_rtcp_fb fb;
  REQUIRE(tern_rtcp_parse_fb(&p, &fb) == 0);
  CHECK_EQ_INT(fb.type, TERN_RTCP_PSFB);
  CHECK_EQ_INT(fb.fmt, TERN_RTCP_FMT_PLI);
  CHECK_EQ_INT(fb.media_ssrc, 0x902f9e2e);
  CHECK_EQ_INT(fb.fci_len, 0);

  REQUIRE(tern_rtcp_next(&it, &p) == 1);
  REQUIRE(tern_rtcp_parse_fb(&p, &fb) == 0);
  CHECK_EQ_INT(fb.type, TERN_RTCP_RTPFB);
  CHECK_EQ_INT(fb.fmt, 5);
  uint16_t seqs[4];
  CHECK_EQ_INT(tern_rtcp_nack_lost(&fb, seqs, 4), -EINVAL); /* not a NACK */
  CHECK_EQ_INT(tern_rtcp_next(&it, &p), 0);
  CHECK_EQ_INT(tern_rtcp_next(&it, &p), 0);
}

static void test_chrome_twcc(void) {
  struct tern_rtcp_pkt p;
  REQUIRE(first(exact(chrome_twcc, sizeof(chrome_twcc)), sizeof(chrome_twcc), &p) == 1);
  CHECK_EQ_INT(p.len, 32);
  CHECK_EQ_INT(p.body_len, 27); /* one byte of padding */
  struct tern_rtcp_fb fb;
  REQUIRE(tern_rtcp_parse_fb(&p, &fb) == 0);
  CHECK_EQ_INT(fb.sender_ssrc, 1);
  CHECK_EQ_INT(fb.media_ssrc, 0xdd586eb6);
  struct tern_rtcp_twcc t;
  REQUIRE(tern_rtcp_twcc_init(&t, &fb) == 0);
  CHECK_EQ_INT(t.base_seq, 1);
  CHECK_EQ_INT(t.status_count, 9);
  CHECK_EQ_INT(t.reference_time, 6197520);
  CHECK_EQ_INT(t.fb_count, 0);
  static const int32_t want[] = {0x1c, 0x0c, 0x2c, 0x38, 0, 4, 0, 8, 0x18};
  uint16_t seq;
  bool rx;
  int32_t d;
  for (int i = 0; i < 9; i++) {
    REQUIRE(tern_rtcp_twcc_next(&t, &seq, &rx, &d) == 1);
    CHECK_EQ_INT(seq, 1 + i);
    CHECK(rx);
    CHECK_EQ_INT(d, want[i]);
  }
  CHECK_EQ_INT(tern_rtcp_twcc_next(&t, &seq, &rx, &d), 0);
}

/* Status vectors (1-bit and 2-bit), a run of losses, a large negative delta,
 * sequence numbers wrapping, a chunk covering more than status_count. */
static void test_twcc_chunks(void) {
  static const uint8_t pkt[] = {
      0x8f, 0xcd, 0x00, 0x09, 0, 0, 0, 1, 0, 0, 0, 2,
      0xff, 0xfe, 0x00, 0x19,       /* base 65534, 25 statuses */
      0xff, 0xff, 0xff, 0x07,       /* reference time -1, fb count 7 */
      0xa0, 0x00,                   /* 1-bit vector: small, then 13 lost */
      0xe4, 0x00,                   /* 2-bit vector: large, small, 5 lost */
      0x40, 0x09,                   /* run: 9 large (only 4 needed) */
      0x05,                         /* small 5 */
      0xff, 0xfc,                   /* large -4 */
      0x07,                         /* small 7 */
      0x00, 0x01, 0x00, 0x02, 0x00, 0x03, 0x00, 0x04, /* 4 large */
      0x00, 0x00,                   /* zero padding to the word */
  };
  _Static_assert(sizeof(pkt) == 40, "10 words");
  struct tern_rtcp_pkt p;
  struct tern_rtcp_fb fb;
  struct tern_rtcp_twcc t;
  REQUIRE(first(exact(pkt, sizeof(pkt)), sizeof(pkt), &p) == 1);
  REQUIRE(tern_rtcp_parse_fb(&p, &fb) == 0);
  REQUIRE(tern_rtcp_twcc_init(&t, &fb) == 0);
  CHECK_EQ_INT(t.base_seq, 65534);
  CHECK_EQ_INT(t.reference_time, -1);
  CHECK_EQ_INT(t.fb_count, 7);
  uint16_t seq;
  bool rx;
  int32_t d;
  int n = 0, received = 0;
  int32_t deltas[8];
  uint16_t rx_seqs[8];
  while (tern_rtcp_twcc_next(&t, &seq, &rx, &d) == 1) {
    CHECK_EQ_INT(seq, (uint16_t)(65534 + n));
    if (rx && received < 8) {
      deltas[received] = d;
      rx_seqs[received] = seq;
      received++;
    }
    n++;
  }
  CHECK_EQ_INT(n, 25);
  REQUIRE(received == 7);
  static const uint16_t want_seq[] = {65534, 12, 13, 19, 20, 21, 22};
  static const int32_t want_delta[] = {5, -4, 7, 1, 2, 3, 4};
  CHECK(memcmp(rx_seqs, want_seq, sizeof(want_seq)) == 0);
  CHECK(memcmp(deltas, want_delta, sizeof(want_delta)) == 0);
}

static int report_eq(const struct tern_rtcp_report *a, const struct tern_rtcp_report *b) {
  return a->ssrc == b->ssrc && a->fraction_lost == b->fraction_lost &&
         a->cumulative_lost == b->cumulative_lost && a->highest_seq == b->highest_seq &&
         a->jitter == b->jitter && a->lsr == b->lsr && a->dlsr == b->dlsr;
}

static void test_sr_rr_round_trip(void) {
  struct tern_rtcp_sr sr = {.ssrc = 0x11223344, .ntp = 0xda8bd1fcdddda05aull,
                            .rtp_ts = 0xaaf4edd5, .packets = 1000, .octets = 160000,
                            .report_count = 2};
  sr.reports[0] = (struct tern_rtcp_report){.ssrc = 1, .fraction_lost = 25,
                                            .cumulative_lost = -3, .highest_seq = 0x10002,
                                            .jitter = 17, .lsr = 0xabcd1234, .dlsr = 65536};
  sr.reports[1] = (struct tern_rtcp_report){.ssrc = 2, .cumulative_lost = 0x7fffff};
  uint8_t buf[100];
  int len = tern_rtcp_write_sr(buf, sizeof(buf), &sr);
  CHECK_EQ_INT(len, 28 + 48);
  CHECK(buf[0] == 0x82 && buf[1] == 200 && buf[3] == 18);
  struct tern_rtcp_pkt p;
  struct tern_rtcp_sr got;
  REQUIRE(first(exact(buf, (size_t)len), (size_t)len, &p) == 1);
  REQUIRE(tern_rtcp_parse_sr(&p, &got) == 0);
  CHECK_EQ_INT(got.ssrc, sr.ssrc);
  CHECK(got.ntp == sr.ntp);
  CHECK_EQ_INT(got.rtp_ts, sr.rtp_ts);
  CHECK_EQ_INT(got.packets, 1000);
  CHECK_EQ_INT(got.octets, 160000);
  CHECK_EQ_INT(got.report_count, 2);
  CHECK(report_eq(&got.reports[0], &sr.reports[0]));
  CHECK_EQ_INT(got.reports[0].cumulative_lost, -3);
  CHECK_EQ_INT(got.reports[1].cumulative_lost, 0x7fffff);
  /* clamped to 24 bits on the wire */
  sr.reports[1].cumulative_lost = -10000000;
  len = tern_rtcp_write_sr(buf, sizeof(buf), &sr);
  REQUIRE(first(buf, (size_t)len, &p) == 1 && tern_rtcp_parse_sr(&p, &got) == 0);
  CHECK_EQ_INT(got.reports[1].cumulative_lost, -0x800000);

  struct tern_rtcp_sr rr = {.ssrc = 9, .report_count = 1};
  rr.reports[0] = sr.reports[0];
  len = tern_rtcp_write_rr(buf, sizeof(buf), &rr);
  CHECK_EQ_INT(len, 32);
  REQUIRE(first(exact(buf, (size_t)len), (size_t)len, &p) == 1);
  REQUIRE(tern_rtcp_parse_rr(&p, &got) == 0);
  CHECK_EQ_INT(got.ssrc, 9);
  CHECK(got.ntp == 0);
  CHECK(report_eq(&got.reports[0], &rr.reports[0]));
  /* an empty RR (RC=0) is what a receiver with nothing to report sends */
  rr.report_count = 0;
  CHECK_EQ_INT(tern_rtcp_write_rr(buf, sizeof(buf), &rr), 8);
  rr.report_count = 32;
  CHECK_EQ_INT(tern_rtcp_write_rr(buf, sizeof(buf), &rr), -EINVAL);
}

static void test_sdes_bye_round_trip(void) {
  uint8_t buf[300];
  struct tern_rtcp_pkt p;
  for (size_t n = 0; n <= 12; n++) { /* every padding case */
    const char *cname = "abcdefghijkl";
    int len = tern_rtcp_write_sdes_cname(buf, sizeof(buf), 0xabcdef, cname, n);
    REQUIRE(len > 0);
    CHECK_EQ_INT(len % 4, 0);
    CHECK(len >= (int)(4 + 4 + 2 + n + 1));
    REQUIRE(first(exact(buf, (size_t)len), (size_t)len, &p) == 1);
    struct tern_rtcp_sdes sd;
    REQUIRE(tern_rtcp_parse_sdes(&p, &sd) == 0);
    CHECK_EQ_INT(sd.chunk_count, 1);
    CHECK_EQ_INT(sd.chunks[0].ssrc, 0xabcdef);
    CHECK_EQ_INT(sd.chunks[0].cname_len, n);
    CHECK(memcmp(sd.chunks[0].cname, cname, n) == 0);
  }
  char big[256];
  memset(big, 'x', sizeof(big));
  CHECK_EQ_INT(tern_rtcp_write_sdes_cname(buf, sizeof(buf), 1, big, 256), -EINVAL);
  int len = tern_rtcp_write_sdes_cname(buf, sizeof(buf), 1, big, 255);
  CHECK_EQ_INT(len, 268);

  uint32_t ssrcs[] = {1, 2, 3};
  len = tern_rtcp_write_bye(buf, sizeof(buf), ssrcs, 3, "gone", 4);
  CHECK_EQ_INT(len, 4 + 12 + 8);
  REQUIRE(first(exact(buf, (size_t)len), (size_t)len, &p) == 1);
  struct tern_rtcp_bye bye;
  REQUIRE(tern_rtcp_parse_bye(&p, &bye) == 0);
  CHECK_EQ_INT(bye.ssrc_count, 3);
  CHECK_EQ_INT(bye.ssrcs[2], 3);
  CHECK(bye.reason_len == 4 && memcmp(bye.reason, "gone", 4) == 0);
  len = tern_rtcp_write_bye(buf, sizeof(buf), ssrcs, 1, NULL, 0);
  CHECK_EQ_INT(len, 8);
}

/* Two chunks, the second with no CNAME but a NAME item, and a PRIV item. */
static void test_sdes_two_chunks(void) {
  static const uint8_t pkt[] = {
      0x82, 0xca, 0x00, 0x06,
      0, 0, 0, 1, 0x01, 0x02, 'a', 'b', 0x00, 0x00, 0x00, 0x00, /* END + pad */
      0, 0, 0, 2, 0x02, 0x03, 'x', 'y', 'z', 0x00, 0x00, 0x00,  /* NAME */
  };
  struct tern_rtcp_pkt p;
  struct tern_rtcp_sdes sd;
  REQUIRE(first(exact(pkt, sizeof(pkt)), sizeof(pkt), &p) == 1);
  REQUIRE(tern_rtcp_parse_sdes(&p, &sd) == 0);
  CHECK_EQ_INT(sd.chunk_count, 2);
  CHECK(sd.chunks[0].cname_len == 2 && memcmp(sd.chunks[0].cname, "ab", 2) == 0);
  CHECK_EQ_INT(sd.chunks[1].ssrc, 2);
  CHECK(sd.chunks[1].cname == NULL);
}

static int cmp16(const void *a, const void *b) {
  return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static void test_nack(void) {
  /* RFC 4585 §6.2.1 by hand: PID 100, BLP 0x8001 → 100, 101, 116 */
  static const uint8_t pkt[] = {0x81, 0xcd, 0x00, 0x04, 0, 0, 0, 1, 0, 0, 0, 2,
                                0x00, 0x64, 0x80, 0x01, 0xff, 0xff, 0x00, 0x01};
  struct tern_rtcp_pkt p;
  struct tern_rtcp_fb fb;
  uint16_t seqs[40];
  REQUIRE(first(exact(pkt, sizeof(pkt)), sizeof(pkt), &p) == 1);
  REQUIRE(tern_rtcp_parse_fb(&p, &fb) == 0);
  REQUIRE(tern_rtcp_nack_lost(&fb, seqs, 40) == 5);
  CHECK(seqs[0] == 100 && seqs[1] == 101 && seqs[2] == 116);
  CHECK(seqs[3] == 65535 && seqs[4] == 0); /* wraps */
  CHECK_EQ_INT(tern_rtcp_nack_lost(&fb, seqs, 2), 2); /* bounded */

  /* writer: any order, duplicates, across the wrap */
  uint16_t lost[] = {5, 65530, 3, 65535, 3, 20, 4, 0, 21, 40};
  uint8_t buf[64];
  int len = tern_rtcp_write_nack(buf, sizeof(buf), 7, 8, lost, 10);
  REQUIRE(len > 12);
  REQUIRE(first(exact(buf, (size_t)len), (size_t)len, &p) == 1);
  REQUIRE(tern_rtcp_parse_fb(&p, &fb) == 0);
  CHECK_EQ_INT(fb.sender_ssrc, 7);
  CHECK_EQ_INT(fb.media_ssrc, 8);
  int n = tern_rtcp_nack_lost(&fb, seqs, 40);
  REQUIRE(n == 9); /* the duplicate 3 once */
  qsort(seqs, (size_t)n, sizeof(seqs[0]), cmp16);
  static const uint16_t want[] = {0, 3, 4, 5, 20, 21, 40, 65530, 65535};
  CHECK(memcmp(seqs, want, sizeof(want)) == 0);
  /* packed into 3 entries: PID 5 (+20, 21), PID 65530 (+65535, 0, 3, 4), 40 */
  CHECK_EQ_INT(len, 12 + 4 * 3);
  CHECK_EQ_INT(tern_rtcp_write_nack(buf, sizeof(buf), 7, 8, lost, 0), -EINVAL);
  CHECK_EQ_INT(tern_rtcp_write_nack(buf, 16, 7, 8, lost, 10), -ENOSPC);
}

static void test_pli_fir(void) {
  uint8_t buf[64];
  struct tern_rtcp_pkt p;
  struct tern_rtcp_fb fb;
  int len = tern_rtcp_write_pli(buf, sizeof(buf), 0x1111, 0x2222);
  CHECK_EQ_INT(len, 12);
  static const uint8_t want_pli[] = {0x81, 0xce, 0x00, 0x02, 0, 0, 0x11, 0x11, 0, 0, 0x22, 0x22};
  CHECK(memcmp(buf, want_pli, 12) == 0);
  CHECK_EQ_INT(tern_rtcp_write_pli(buf, 11, 1, 2), -ENOSPC);

  struct tern_rtcp_fir_entry e[2] = {{0xaaaa, 7}, {0xbbbb, 255}};
  len = tern_rtcp_write_fir(buf, sizeof(buf), 0x1111, e, 2);
  CHECK_EQ_INT(len, 28);
  REQUIRE(first(exact(buf, (size_t)len), (size_t)len, &p) == 1);
  REQUIRE(tern_rtcp_parse_fb(&p, &fb) == 0);
  CHECK(fb.type == TERN_RTCP_PSFB && fb.fmt == TERN_RTCP_FMT_FIR);
  CHECK_EQ_INT(fb.media_ssrc, 0);
  struct tern_rtcp_fir_entry g;
  REQUIRE(tern_rtcp_fir_entry(&fb, 1, &g) == 0);
  CHECK(g.ssrc == 0xbbbb && g.seq == 255);
  REQUIRE(tern_rtcp_fir_entry(&fb, 0, &g) == 0);
  CHECK(g.ssrc == 0xaaaa && g.seq == 7);
  CHECK_EQ_INT(tern_rtcp_fir_entry(&fb, 2, &g), -ENOENT);
  CHECK_EQ_INT(tern_rtcp_write_fir(buf, sizeof(buf), 1, e, 0), -EINVAL);
}

static void test_remb(void) {
  /* Pion's REMB test packet: 8927168 bps for SSRC 1215622422 */
  static const uint8_t pkt[] = {143, 206, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0,
                                82, 69, 77, 66, 1, 26, 32, 223, 72, 116, 237, 22};
  struct tern_rtcp_pkt p;
  struct tern_rtcp_fb fb;
  struct tern_rtcp_remb r;
  REQUIRE(first(exact(pkt, sizeof(pkt)), sizeof(pkt), &p) == 1);
  REQUIRE(tern_rtcp_parse_fb(&p, &fb) == 0);
  REQUIRE(tern_rtcp_parse_remb(&fb, &r) == 0);
  CHECK(r.bitrate == 8927168);
  CHECK_EQ_INT(r.ssrc_count, 1);
  CHECK_EQ_INT(r.ssrcs[0], 1215622422u);
  uint8_t buf[128];
  int len = tern_rtcp_write_remb(buf, sizeof(buf), 1, 8927168, r.ssrcs, 1);
  CHECK_EQ_INT(len, (int)sizeof(pkt));
  CHECK(memcmp(buf, pkt, sizeof(pkt)) == 0);

  uint32_t ss[20];
  for (int i = 0; i < 20; i++)
    ss[i] = (uint32_t)i + 100;
  len = tern_rtcp_write_remb(buf, sizeof(buf), 1, 1500000, ss, 20);
  CHECK_EQ_INT(len, 12 + 8 + 80);
  REQUIRE(first(exact(buf, (size_t)len), (size_t)len, &p) == 1);
  REQUIRE(tern_rtcp_parse_fb(&p, &fb) == 0);
  REQUIRE(tern_rtcp_parse_remb(&fb, &r) == 0);
  CHECK(r.bitrate == 1500000);
  CHECK_EQ_INT(r.ssrc_count, 20);
  CHECK_EQ_INT(r.ssrcs_kept, TERN_RTCP_REMB_MAX_SSRC);
  CHECK_EQ_INT(r.ssrcs[15], 115);
  /* huge values: written rounded down, read saturated, never UB */
  len = tern_rtcp_write_remb(buf, sizeof(buf), 1, UINT64_MAX, NULL, 0);
  REQUIRE(first(buf, (size_t)len, &p) == 1 && tern_rtcp_parse_fb(&p, &fb) == 0);
  REQUIRE(tern_rtcp_parse_remb(&fb, &r) == 0);
  CHECK(r.bitrate > (UINT64_MAX >> 1));
  buf[17] = 0xff, buf[18] = 0xff, buf[19] = 0xff; /* exp 63, full mantissa */
  REQUIRE(tern_rtcp_parse_remb(&fb, &r) == 0);
  CHECK(r.bitrate == UINT64_MAX);
  /* not REMB */
  buf[12] = 'X';
  CHECK_EQ_INT(tern_rtcp_parse_remb(&fb, &r), -EINVAL);
}

/* Everything the writers make, concatenated, walks back in order. */
static void test_compound_of_writers(void) {
  uint8_t buf[512];
  size_t o = 0;
  struct tern_rtcp_sr sr = {.ssrc = 1, .report_count = 1};
  uint16_t lost[] = {10, 12};
  struct tern_rtcp_fir_entry fe = {3, 1};
  uint32_t s = 5;
  o += (size_t)tern_rtcp_write_sr(buf + o, sizeof(buf) - o, &sr);
  o += (size_t)tern_rtcp_write_sdes_cname(buf + o, sizeof(buf) - o, 1, "tern", 4);
  o += (size_t)tern_rtcp_write_nack(buf + o, sizeof(buf) - o, 1, 2, lost, 2);
  o += (size_t)tern_rtcp_write_pli(buf + o, sizeof(buf) - o, 1, 2);
  o += (size_t)tern_rtcp_write_fir(buf + o, sizeof(buf) - o, 1, &fe, 1);
  o += (size_t)tern_rtcp_write_remb(buf + o, sizeof(buf) - o, 1, 300000, &s, 1);
  o += (size_t)tern_rtcp_write_bye(buf + o, sizeof(buf) - o, &s, 1, "x", 1);
  const uint8_t types[] = {200, 202, 205, 206, 206, 206, 203};
  const uint8_t counts[] = {1, 1, 1, 1, 4, 15, 1};
  struct tern_rtcp_iter it;
  struct tern_rtcp_pkt p;
  tern_rtcp_iter_init(&it, exact(buf, o), o);
  size_t i = 0;
  int rc;
  while ((rc = tern_rtcp_next(&it, &p)) == 1 && i < 7) {
    CHECK_EQ_INT(p.type, types[i]);
    CHECK_EQ_INT(p.count, counts[i]);
    i++;
  }
  CHECK_EQ_INT(rc, 0);
  CHECK_EQ_INT(i, 7);
}

/* Walks a buffer and runs every parser on every packet. */
static void parse_all(const uint8_t *b, size_t n) {
  struct tern_rtcp_iter it;
  struct tern_rtcp_pkt p;
  tern_rtcp_iter_init(&it, b, n);
  int guard = 0;
  while (tern_rtcp_next(&it, &p) == 1 && guard++ < 1000) {
    CHECK(p.data >= b && p.data + p.len <= b + n);
    CHECK(p.body + p.body_len <= b + n);
    static struct tern_rtcp_sr sr;
    static struct tern_rtcp_sdes sd;
    static struct tern_rtcp_bye bye;
    struct tern_rtcp_fb fb;
    tern_rtcp_parse_sr(&p, &sr);
    tern_rtcp_parse_rr(&p, &sr);
    if (tern_rtcp_parse_sdes(&p, &sd) == 0)
      for (unsigned i = 0; i < sd.chunk_count; i++)
        if (sd.chunks[i].cname)
          CHECK((const uint8_t *)sd.chunks[i].cname + sd.chunks[i].cname_len <= b + n);
    if (tern_rtcp_parse_bye(&p, &bye) == 0 && bye.reason)
      CHECK((const uint8_t *)bye.reason + bye.reason_len <= b + n);
    if (tern_rtcp_parse_fb(&p, &fb) == 0) {
      uint16_t seqs[64];
      struct tern_rtcp_fir_entry fe;
      struct tern_rtcp_remb r;
      struct tern_rtcp_twcc t;
      tern_rtcp_nack_lost(&fb, seqs, 64);
      for (size_t i = 0; tern_rtcp_fir_entry(&fb, i, &fe) == 0; i++)
        ;
      tern_rtcp_parse_remb(&fb, &r);
      if (tern_rtcp_twcc_init(&t, &fb) == 0) {
        uint16_t seq;
        bool rx;
        int32_t d;
        unsigned k = 0;
        while (tern_rtcp_twcc_next(&t, &seq, &rx, &d) == 1)
          k++;
        CHECK_EQ_INT(k, t.status_count);
      }
    }
  }
}

static void test_malformed(void) {
  struct tern_rtcp_pkt p;
  /* truncated at every length: the walk stops with an error, no over-read */
  for (size_t n = 0; n <= sizeof(firefox_compound); n++)
    parse_all(exact(firefox_compound, n), n);
  for (size_t n = 0; n <= sizeof(chrome_twcc); n++)
    parse_all(exact(chrome_twcc, n), n);
  CHECK_EQ_INT(first(exact(firefox_compound, 31), 31, &p), -EINVAL);
  CHECK_EQ_INT(first(exact(firefox_compound, 3), 3, &p), -EINVAL);

  uint8_t b[64];
  /* version 1 */
  memcpy(b, firefox_compound, 32);
  b[0] = 0x41;
  CHECK_EQ_INT(first(exact(b, 32), 32, &p), -EPROTO);
  /* length field pointing past the end */
  memcpy(b, firefox_compound, 32);
  b[3] = 8;
  CHECK_EQ_INT(first(exact(b, 32), 32, &p), -EINVAL);
  /* padding count 0, and larger than the body */
  memcpy(b, firefox_compound, 32);
  b[0] |= 0x20;
  b[31] = 0;
  CHECK_EQ_INT(first(exact(b, 32), 32, &p), -EINVAL);
  b[31] = 29;
  CHECK_EQ_INT(first(exact(b, 32), 32, &p), -EINVAL);
  b[31] = 28; /* all body: allowed, then RR parsing finds no room */
  REQUIRE(first(exact(b, 32), 32, &p) == 1);
  struct tern_rtcp_sr sr;
  CHECK_EQ_INT(tern_rtcp_parse_rr(&p, &sr), -EINVAL);
  /* report count beyond the body */
  memcpy(b, firefox_compound, 32);
  b[0] = 0x82;
  REQUIRE(first(exact(b, 32), 32, &p) == 1);
  CHECK_EQ_INT(tern_rtcp_parse_rr(&p, &sr), -EINVAL);
  /* SDES: item length past the end; missing END */
  static const uint8_t sdes_bad[] = {0x81, 0xca, 0x00, 0x02, 0, 0, 0, 1, 0x01, 0x09, 'a', 'b'};
  REQUIRE(first(exact(sdes_bad, 12), 12, &p) == 1);
  struct tern_rtcp_sdes sd;
  CHECK_EQ_INT(tern_rtcp_parse_sdes(&p, &sd), -EINVAL);
  static const uint8_t sdes_noend[] = {0x81, 0xca, 0x00, 0x02, 0, 0, 0, 1, 0x01, 0x02, 'a', 'b'};
  REQUIRE(first(exact(sdes_noend, 12), 12, &p) == 1);
  CHECK_EQ_INT(tern_rtcp_parse_sdes(&p, &sd), -EINVAL);
  /* BYE: count beyond the body; reason length beyond it */
  static const uint8_t bye_bad[] = {0x83, 0xcb, 0x00, 0x01, 0, 0, 0, 1};
  REQUIRE(first(exact(bye_bad, 8), 8, &p) == 1);
  struct tern_rtcp_bye bye;
  CHECK_EQ_INT(tern_rtcp_parse_bye(&p, &bye), -EINVAL);
  static const uint8_t bye_reason[] = {0x81, 0xcb, 0x00, 0x02, 0, 0, 0, 1, 9, 'a', 'b', 'c'};
  REQUIRE(first(exact(bye_reason, 12), 12, &p) == 1);
  CHECK_EQ_INT(tern_rtcp_parse_bye(&p, &bye), -EINVAL);
  /* feedback shorter than its two SSRCs; NACK with a half entry */
  static const uint8_t fb_short[] = {0x81, 0xce, 0x00, 0x01, 0, 0, 0, 1};
  struct tern_rtcp_fb fb;
  REQUIRE(first(exact(fb_short, 8), 8, &p) == 1);
  CHECK_EQ_INT(tern_rtcp_parse_fb(&p, &fb), -EINVAL);
  static const uint8_t nack_half[] = {0xa1, 0xcd, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2,
                                      0x00, 0x01, 0x00, 0x02};
  REQUIRE(first(exact(nack_half, 16), 16, &p) == 1); /* padding 2 cuts the entry */
  REQUIRE(tern_rtcp_parse_fb(&p, &fb) == 0);
  uint16_t seqs[4];
  CHECK_EQ_INT(tern_rtcp_nack_lost(&fb, seqs, 4), -EINVAL);
  /* REMB announcing more SSRCs than present */
  static const uint8_t remb_bad[] = {143, 206, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0,
                                     'R', 'E', 'M', 'B', 2, 26, 32, 223, 72, 116, 237, 22};
  REQUIRE(first(exact(remb_bad, 24), 24, &p) == 1 && tern_rtcp_parse_fb(&p, &fb) == 0);
  struct tern_rtcp_remb r;
  CHECK_EQ_INT(tern_rtcp_parse_remb(&fb, &r), -EINVAL);
  /* TWCC: more statuses than chunks; deltas missing; reserved symbol */
  struct tern_rtcp_twcc t;
  memcpy(b, chrome_twcc, 32);
  b[15] = 0x0a; /* 10 statuses, one run chunk of 9 */
  REQUIRE(first(exact(b, 32), 32, &p) == 1 && tern_rtcp_parse_fb(&p, &fb) == 0);
  /* the first delta bytes are then read as a second chunk, and the nine
   * deltas no longer fit */
  CHECK_EQ_INT(tern_rtcp_twcc_init(&t, &fb), -EINVAL);
  memcpy(b, chrome_twcc, 32);
  b[21] = 0x0c; /* run of 12 small deltas: only 9 bytes follow */
  b[15] = 0x0c;
  REQUIRE(first(exact(b, 32), 32, &p) == 1 && tern_rtcp_parse_fb(&p, &fb) == 0);
  CHECK_EQ_INT(tern_rtcp_twcc_init(&t, &fb), -EINVAL);
  memcpy(b, chrome_twcc, 32);
  b[20] = 0x60; /* run of reserved symbol 3 */
  REQUIRE(first(exact(b, 32), 32, &p) == 1 && tern_rtcp_parse_fb(&p, &fb) == 0);
  CHECK_EQ_INT(tern_rtcp_twcc_init(&t, &fb), -EINVAL);
  memcpy(b, chrome_twcc, 32);
  b[14] = 0xff; /* 65289 statuses: chunks run out */
  REQUIRE(first(exact(b, 32), 32, &p) == 1 && tern_rtcp_parse_fb(&p, &fb) == 0);
  CHECK_EQ_INT(tern_rtcp_twcc_init(&t, &fb), -EINVAL);

  /* random compounds: headers made plausible so the parsers get exercised */
  uint32_t x = 777;
  uint8_t rnd[96];
  for (int i = 0; i < 30000; i++) {
    size_t n = (size_t)(i % 96);
    for (size_t j = 0; j < n; j++) {
      x = x * 1103515245u + 12345u;
      rnd[j] = (uint8_t)(x >> 16);
    }
    if (n >= 4) {
      rnd[0] = (uint8_t)(0x80 | (rnd[0] & 0x3f));
      rnd[1] = (uint8_t)(200 + rnd[1] % 7);
      rnd[2] = 0;
      rnd[3] = (uint8_t)(rnd[3] % 24);
    }
    parse_all(exact(rnd, n), n);
  }
}

/* Writers with every capacity below what they need: -ENOSPC, no overflow. */
static void test_writer_capacity(void) {
  struct tern_rtcp_sr sr = {.ssrc = 1, .report_count = 2};
  uint16_t lost[] = {1, 50, 100};
  struct tern_rtcp_fir_entry fe[2] = {{1, 1}, {2, 2}};
  uint32_t ss[3] = {1, 2, 3};
  for (int kind = 0; kind < 8; kind++) {
    int need = -1;
    for (size_t cap = 0; cap < 128; cap++) {
      uint8_t *b = malloc(cap ? cap : 1);
      int rc = 0;
      switch (kind) {
      case 0: rc = tern_rtcp_write_sr(b, cap, &sr); break;
      case 1: rc = tern_rtcp_write_rr(b, cap, &sr); break;
      case 2: rc = tern_rtcp_write_sdes_cname(b, cap, 1, "cname-x", 7); break;
      case 3: rc = tern_rtcp_write_bye(b, cap, ss, 3, "bye", 3); break;
      case 4: rc = tern_rtcp_write_nack(b, cap, 1, 2, lost, 3); break;
      case 5: rc = tern_rtcp_write_pli(b, cap, 1, 2); break;
      case 6: rc = tern_rtcp_write_fir(b, cap, 1, fe, 2); break;
      case 7: rc = tern_rtcp_write_remb(b, cap, 1, 1000000, ss, 3); break;
      }
      if (rc > 0 && need < 0)
        need = (int)cap;
      CHECK(rc == -ENOSPC || (rc > 0 && (size_t)rc <= cap));
      if (rc > 0)
        CHECK_EQ_INT(rc, need);
      free(b);
    }
    CHECK(need > 0);
  }
}

int main(void) {
  RUN(test_firefox_compound);
  RUN(test_chrome_twcc);
  RUN(test_twcc_chunks);
  RUN(test_sr_rr_round_trip);
  RUN(test_sdes_bye_round_trip);
  RUN(test_sdes_two_chunks);
  RUN(test_nack);
  RUN(test_pli_fir);
  RUN(test_remb);
  RUN(test_compound_of_writers);
  RUN(test_malformed);
  RUN(test_writer_capacity);
  free(exact_buf);
  return TEST_RESULT();
}
