/* test_rtp — RTP parsing, RFC 8285 extensions, writer, demux checks.
 * Packets are crafted by hand from the RFC 3550 §5.1 / RFC 8285 diagrams;
 * malformed input is parsed from exact-size heap copies so ASan sees any
 * read past the end. */
#include <errno.h>
#include <stdlib.h>

#include "rtp/rtp.h"
#include "test.h"

/* The copy lives until the next call, so `out` stays usable. */
static uint8_t *last_copy;

static int parse_exact(const uint8_t *b, size_t len, struct tern_rtp *out) {
  free(last_copy);
  uint8_t *c = last_copy = malloc(len ? len : 1);
  memcpy(c, b, len);
  int rc = tern_rtp_parse(c, len, out);
  if (rc == 0) { /* walk everything the parser pointed at, inside c */
    struct tern_rtp_ext_iter it;
    uint8_t id;
    const uint8_t *d;
    size_t n;
    unsigned sum = 0;
    if (tern_rtp_ext_iter_init(&it, out) == 0)
      while (tern_rtp_ext_next(&it, &id, &d, &n) > 0)
        for (size_t i = 0; i < n; i++)
          sum += d[i];
    for (size_t i = 0; i < out->payload_len; i++)
      sum += out->payload[i];
    (void)sum;
  }
  return rc;
}

/* Opus packet as Chromium sends it: one-byte extensions ssrc-audio-level
 * (id 1), abs-send-time (id 2), transport-cc (id 3), mid (id 4). */
static const uint8_t chrome_opus[] = {
    0x90, 0xef, 0x1a, 0x2b, 0x00, 0x01, 0xe2, 0x40, 0x12, 0x34, 0x56, 0x78, /* M, PT 111 */
    0xbe, 0xde, 0x00, 0x03,                                                 /* 3 words */
    0x10, 0xa5,                   /* id 1 len 1: V=1 level 37 */
    0x22, 0x4c, 0x8e, 0x12,       /* id 2 len 3 */
    0x31, 0x01, 0x02,             /* id 3 len 2: seq 258 */
    0x40, '0',                    /* id 4 len 1: mid "0" */
    0x00,                         /* padding */
    0xfc, 0xff, 0xfe,             /* payload */
};

static void test_parse_opus_with_extensions(void) {
  struct tern_rtp p;
  REQUIRE(tern_rtp_parse(chrome_opus, sizeof(chrome_opus), &p) == 0);
  CHECK(p.marker);
  CHECK(p.extension);
  CHECK(!p.padding);
  CHECK_EQ_INT(p.payload_type, 111);
  CHECK_EQ_INT(p.seq, 0x1a2b);
  CHECK_EQ_INT(p.timestamp, 123456);
  CHECK_EQ_INT(p.ssrc, 0x12345678);
  CHECK_EQ_INT(p.ext_profile, 0xbede);
  CHECK_EQ_INT(p.ext_len, 12);
  CHECK_EQ_INT(p.header_len, 28);
  CHECK_EQ_INT(p.payload_len, 3);
  CHECK(p.payload == chrome_opus + 28);

  const uint8_t *d;
  size_t n;
  bool voice;
  uint8_t level;
  REQUIRE(tern_rtp_ext_find(&p, 1, &d, &n) == 0);
  CHECK_EQ_INT(tern_rtp_ext_read_audio_level(d, n, &voice, &level), 0);
  CHECK(voice);
  CHECK_EQ_INT(level, 37);
  uint32_t t24;
  REQUIRE(tern_rtp_ext_find(&p, 2, &d, &n) == 0);
  CHECK_EQ_INT(tern_rtp_ext_read_abs_send_time(d, n, &t24), 0);
  CHECK_EQ_INT(t24, 0x4c8e12);
  uint16_t tseq;
  REQUIRE(tern_rtp_ext_find(&p, 3, &d, &n) == 0);
  CHECK_EQ_INT(tern_rtp_ext_read_transport_cc(d, n, &tseq), 0);
  CHECK_EQ_INT(tseq, 258);
  REQUIRE(tern_rtp_ext_find(&p, 4, &d, &n) == 0);
  CHECK(n == 1 && d[0] == '0');
  CHECK_EQ_INT(tern_rtp_ext_find(&p, 5, &d, &n), -ENOENT);
  CHECK_EQ_INT(tern_rtp_ext_read_transport_cc(d, 3, &tseq), -EINVAL);
  CHECK_EQ_INT(tern_rtp_ext_read_abs_send_time(d, 2, &t24), -EINVAL);

  /* in-place accessors agree with the parser and rewrite the header */
  uint8_t b[sizeof(chrome_opus)];
  memcpy(b, chrome_opus, sizeof(b));
  CHECK_EQ_INT(tern_rtp_seq(b), 0x1a2b);
  CHECK_EQ_INT(tern_rtp_timestamp(b), 123456);
  CHECK_EQ_INT(tern_rtp_ssrc(b), 0x12345678);
  CHECK_EQ_INT(tern_rtp_payload_type(b), 111);
  CHECK(tern_rtp_marker(b));
  tern_rtp_set_seq(b, 0xfffe);
  tern_rtp_set_timestamp(b, 0xdeadbeef);
  tern_rtp_set_ssrc(b, 0xcafebabe);
  tern_rtp_set_payload_type(b, 96);
  tern_rtp_set_marker(b, false);
  REQUIRE(tern_rtp_parse(b, sizeof(b), &p) == 0);
  CHECK_EQ_INT(p.seq, 0xfffe);
  CHECK_EQ_INT(p.timestamp, 0xdeadbeef);
  CHECK_EQ_INT(p.ssrc, 0xcafebabe);
  CHECK_EQ_INT(p.payload_type, 96);
  CHECK(!p.marker);
  CHECK(memcmp(b + 12, chrome_opus + 12, sizeof(b) - 12) == 0);
  tern_rtp_set_payload_type(b, 111);
  tern_rtp_set_marker(b, true);
  CHECK(b[1] == 0xef);
}

/* Chromium video packets (headers only) captured and decoded by Wireshark,
 * from olivermichel/webrtc-analysis' test data: one-byte extensions with
 * padding, and the two-byte form carrying a 33-byte element. */
static const uint8_t chrome_video_1byte[] = {
    0x90, 0x2d, 0x1a, 0x5f, 0xd4, 0x09, 0x05, 0x49, 0xf7, 0xb1, 0x6e, 0x83,
    0xbe, 0xde, 0x00, 0x03, 0x22, 0xf3, 0x43, 0x50, 0x41, 0x00, 0x9b,
    0xd2, 0x81, 0x00, 0x45, 0x00};
static const uint8_t chrome_video_2byte[] = {
    0x90, 0x2d, 0x61, 0xc5, 0x95, 0x0a, 0x0f, 0xee, 0x8d, 0x38, 0x14, 0xe5,
    0x10, 0x00, 0x00, 0x11,
    0x02, 0x03, 0x03, 0xf7, 0xae, 0x04, 0x02, 0x00, 0x02, 0x09, 0x01, 0x30,
    0x03, 0x01, 0x00, 0x06, 0x01, 0x02,
    0x07, 0x0d, 0x01, 0x00, 0x01, 0x00, 0x07, 0x00, 0x07, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00,
    0x0d, 0x21, 0xc0, 0x00, 0x01, 0x80, 0x03, 0x18, 0x7a, 0xaa, 0xf1, 0x30, 0xa0, 0xa0,
    0x14, 0xd1, 0x41, 0x38, 0x23, 0x04, 0x60, 0x08, 0x64, 0x22, 0x22, 0x26, 0x50, 0x09,
    0xf0, 0x07, 0x70, 0x13, 0xf0, 0x0e, 0xf0};

static void test_chrome_captures(void) {
  struct tern_rtp p;
  const uint8_t *d;
  size_t n;
  REQUIRE(parse_exact(chrome_video_1byte, sizeof(chrome_video_1byte), &p) == 0);
  CHECK_EQ_INT(p.payload_type, 45);
  CHECK_EQ_INT(p.seq, 6751);
  CHECK_EQ_INT(p.timestamp, 3557360969u);
  CHECK_EQ_INT(p.ssrc, 0xf7b16e83);
  CHECK_EQ_INT(p.payload_len, 0);
  REQUIRE(tern_rtp_ext_find(&p, 2, &d, &n) == 0);
  uint32_t t24;
  CHECK(tern_rtp_ext_read_abs_send_time(d, n, &t24) == 0 && t24 == 0xf34350);
  REQUIRE(tern_rtp_ext_find(&p, 4, &d, &n) == 0);
  uint16_t tseq;
  CHECK(tern_rtp_ext_read_transport_cc(d, n, &tseq) == 0 && tseq == 0x9b);
  REQUIRE(tern_rtp_ext_find(&p, 13, &d, &n) == 0);
  CHECK(n == 3 && d[0] == 0x81 && d[2] == 0x45);

  REQUIRE(parse_exact(chrome_video_2byte, sizeof(chrome_video_2byte), &p) == 0);
  CHECK_EQ_INT(p.ext_profile, 0x1000);
  CHECK_EQ_INT(p.ext_len, 68);
  struct tern_rtp_ext_iter it;
  REQUIRE(tern_rtp_ext_iter_init(&it, &p) == 0);
  static const uint8_t want_ids[] = {2, 4, 9, 3, 6, 7, 13};
  static const uint8_t want_lens[] = {3, 2, 1, 1, 1, 13, 33};
  uint8_t id;
  int k = 0;
  while (tern_rtp_ext_next(&it, &id, &d, &n) == 1 && k < 7) {
    CHECK_EQ_INT(id, want_ids[k]);
    CHECK_EQ_INT(n, want_lens[k]);
    k++;
  }
  CHECK_EQ_INT(k, 7);
  REQUIRE(tern_rtp_ext_find(&p, 13, &d, &n) == 0);
  CHECK(n == 33 && d[0] == 0xc0 && d[32] == 0xf0);
}

static void test_csrc_padding_two_byte(void) {
  static const uint8_t pkt[] = {
      0xb2, 0x60, 0x00, 0x05, 0, 0, 0, 9, 0, 0, 0, 7, /* P, X, CC=2, PT 96 */
      0, 0, 0, 1, 0, 0, 0, 2,                          /* CSRCs */
      0x10, 0x00, 0x00, 0x02,                          /* two-byte, 2 words */
      0x05, 0x00,                                      /* id 5, len 0 */
      0x00,                                            /* padding */
      0x20, 0x03, 'a', 'b', 'c',                       /* id 32, len 3 */
      0xaa, 0xbb, 0xcc,                                /* payload */
      0x00, 0x00, 0x03,                                /* 3 bytes of padding */
  };
  struct tern_rtp p;
  REQUIRE(parse_exact(pkt, sizeof(pkt), &p) == 0);
  REQUIRE(tern_rtp_parse(pkt, sizeof(pkt), &p) == 0);
  CHECK_EQ_INT(p.csrc_count, 2);
  CHECK(p.csrcs == pkt + 12);
  CHECK_EQ_INT(p.ext_profile, 0x1000);
  CHECK_EQ_INT(p.padding_len, 3);
  CHECK_EQ_INT(p.payload_len, 3);
  CHECK(p.payload[0] == 0xaa);
  const uint8_t *d;
  size_t n;
  CHECK_EQ_INT(tern_rtp_ext_find(&p, 5, &d, &n), 0);
  CHECK_EQ_INT(n, 0);
  REQUIRE(tern_rtp_ext_find(&p, 32, &d, &n) == 0);
  CHECK(n == 3 && memcmp(d, "abc", 3) == 0);
  /* padding count of 0, or beyond the payload */
  uint8_t bad[sizeof(pkt)];
  memcpy(bad, pkt, sizeof(pkt));
  bad[sizeof(bad) - 1] = 0;
  CHECK_EQ_INT(parse_exact(bad, sizeof(bad), &p), -EINVAL);
  bad[sizeof(bad) - 1] = 7; /* payload+padding is 6 bytes */
  CHECK_EQ_INT(parse_exact(bad, sizeof(bad), &p), -EINVAL);
  bad[sizeof(bad) - 1] = 6; /* all of it padding: allowed, empty payload */
  CHECK_EQ_INT(parse_exact(bad, sizeof(bad), &p), 0);
  CHECK_EQ_INT(p.payload_len, 0);
}

static void test_one_byte_stop_and_overrun(void) {
  /* id 15 stops processing: the id 2 after it is not seen */
  static const uint8_t stop[] = {0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1,
                                 0xbe, 0xde, 0x00, 0x01, 0x10, 0x01, 0xf0, 0x20};
  struct tern_rtp p;
  const uint8_t *d;
  size_t n;
  REQUIRE(parse_exact(stop, sizeof(stop), &p) == 0);
  CHECK_EQ_INT(tern_rtp_ext_find(&p, 1, &d, &n), 0);
  CHECK_EQ_INT(tern_rtp_ext_find(&p, 2, &d, &n), -ENOENT);
  /* an element whose length runs past the block */
  static const uint8_t over[] = {0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1,
                                 0xbe, 0xde, 0x00, 0x01, 0x10, 0x01, 0x23, 0x00, 0xaa};
  REQUIRE(parse_exact(over, sizeof(over), &p) == 0);
  CHECK_EQ_INT(tern_rtp_ext_find(&p, 2, &d, &n), -EINVAL);
  /* two-byte element header cut by the end of the block */
  static const uint8_t cut2[] = {0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1,
                                 0x10, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00, 0x07};
  REQUIRE(parse_exact(cut2, sizeof(cut2), &p) == 0);
  CHECK_EQ_INT(tern_rtp_ext_find(&p, 7, &d, &n), -EINVAL);
  /* an unknown extension profile: no RFC 8285 elements */
  static const uint8_t other[] = {0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1,
                                  0x12, 0x34, 0x00, 0x01, 0x10, 0x01, 0x00, 0x00};
  REQUIRE(parse_exact(other, sizeof(other), &p) == 0);
  CHECK_EQ_INT(tern_rtp_ext_find(&p, 1, &d, &n), -ENOENT);
}

static void test_malformed_every_truncation(void) {
  static const uint8_t pkt[] = {
      0xb1, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9, /* P X CC=1 */
      0xbe, 0xde, 0x00, 0x01, 0x10, 0x01, 0x00, 0x00, 0xaa, 0xbb, 0x02, 0x02};
  struct tern_rtp p;
  REQUIRE(parse_exact(pkt, sizeof(pkt), &p) == 0);
  CHECK_EQ_INT(p.payload_len, 2);
  /* every prefix either fails or (the ones that end in padding 2) parses
   * within the bytes it was given */
  for (size_t n = 0; n < sizeof(pkt); n++) {
    int rc = parse_exact(pkt, n, &p);
    CHECK(rc == -EINVAL || (rc == 0 && p.header_len + p.payload_len + p.padding_len == n));
  }
  uint8_t v1[sizeof(pkt)];
  memcpy(v1, pkt, sizeof(pkt));
  v1[0] = (v1[0] & 0x3f) | 0x40;
  CHECK_EQ_INT(parse_exact(v1, sizeof(v1), &p), -EPROTO);
  /* CC=15 and an extension length of 0xffff pointing past the end */
  memcpy(v1, pkt, sizeof(pkt));
  v1[0] = 0x8f;
  CHECK_EQ_INT(parse_exact(v1, sizeof(v1), &p), -EINVAL);
  memcpy(v1, pkt, sizeof(pkt));
  v1[18] = 0xff, v1[19] = 0xff;
  CHECK_EQ_INT(parse_exact(v1, sizeof(v1), &p), -EINVAL);
  /* random bytes: never a crash, never a read outside */
  uint32_t x = 12345;
  uint8_t r[64];
  for (int i = 0; i < 20000; i++) {
    size_t n = (size_t)(i % 64);
    for (size_t j = 0; j < n; j++) {
      x = x * 1103515245u + 12345u;
      r[j] = (uint8_t)(x >> 16);
    }
    if (n)
      r[0] = (uint8_t)((r[0] & 0x3f) | 0x80);
    if (n > 12 && (i & 1))
      r[12] = 0xbe, r[13] = 0xde, r[0] |= 0x10;
    parse_exact(r, n, &p);
  }
}

static void test_demux(void) {
  uint8_t rtcp_sr[8] = {0x80, 200, 0, 1, 0, 0, 0, 1};
  uint8_t rtcp_rtpfb[8] = {0x81, 205, 0, 1, 0, 0, 0, 1};
  CHECK(tern_rtp_is_rtcp(rtcp_sr, 8));
  CHECK(tern_rtp_is_rtcp(rtcp_rtpfb, 8));
  CHECK(!tern_rtp_is_rtp(rtcp_sr, 8));
  CHECK(!tern_rtp_is_rtcp(chrome_opus, sizeof(chrome_opus))); /* M + PT 111 = 0xef */
  CHECK(tern_rtp_is_rtp(chrome_opus, sizeof(chrome_opus)));
  uint8_t pt96[12] = {0x80, 0xe0};
  CHECK(tern_rtp_is_rtp(pt96, 12));
  CHECK(!tern_rtp_is_rtcp(pt96, 12));
  CHECK(!tern_rtp_is_rtcp(rtcp_sr, 3));
  CHECK(!tern_rtp_is_rtp(pt96, 11));
  uint8_t v0[8] = {0x00, 200};
  CHECK(!tern_rtp_is_rtcp(v0, 8));
  uint8_t pt64[12] = {0x80, 64}, pt95m[12] = {0x80, 0x80 | 95}, pt63m[12] = {0x80, 0x80 | 63};
  CHECK(tern_rtp_is_rtcp(pt64, 12) && !tern_rtp_is_rtp(pt64, 12));
  CHECK(tern_rtp_is_rtcp(pt95m, 12) && !tern_rtp_is_rtp(pt95m, 12));
  CHECK(!tern_rtp_is_rtcp(pt63m, 12) && tern_rtp_is_rtp(pt63m, 12));
  uint8_t pt224[12] = {0x80, 224}; /* PT 96 with marker */
  CHECK(!tern_rtp_is_rtcp(pt224, 12) && tern_rtp_is_rtp(pt224, 12));
  CHECK_EQ_INT(tern_rtp_ext_kind_from_uri(TERN_RTP_EXT_URI_MID), TERN_RTP_EXT_MID);
  CHECK_EQ_INT(tern_rtp_ext_kind_from_uri("urn:ietf:params:rtp-hdrext:ssrc-audio-level"),
               TERN_RTP_EXT_AUDIO_LEVEL);
  CHECK_EQ_INT(tern_rtp_ext_kind_from_uri(
                   "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"),
               TERN_RTP_EXT_ABS_SEND_TIME);
  CHECK_EQ_INT(tern_rtp_ext_kind_from_uri(
                   "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"),
               TERN_RTP_EXT_TRANSPORT_CC);
  CHECK_EQ_INT(tern_rtp_ext_kind_from_uri("urn:3gpp:video-orientation"), TERN_RTP_EXT_UNKNOWN);
}

static void test_abs_send_time(void) {
  CHECK_EQ_INT(tern_rtp_abs_send_time(0), 0);
  CHECK_EQ_INT(tern_rtp_abs_send_time(1000000), 1 << 18);
  CHECK_EQ_INT(tern_rtp_abs_send_time(500000), 1 << 17);
  CHECK_EQ_INT(tern_rtp_abs_send_time(64000000), 0); /* wraps at 64 s */
  CHECK_EQ_INT(tern_rtp_abs_send_time(65250000), (1 << 18) + (1 << 16));
  CHECK_EQ_INT(tern_rtp_abs_send_time(UINT64_C(1) << 50) <= 0xffffff, 1);
}

static void test_writer_round_trip(void) {
  uint8_t buf[200];
  struct tern_rtp_writer w;
  REQUIRE(tern_rtp_writer_init(&w, buf, sizeof(buf), 111, 65535, 960, 0xabcdef01, true) == 0);
  CHECK_EQ_INT(tern_rtp_writer_add_csrc(&w, 0x01020304), 0);
  uint8_t lvl = 0x80 | 30;
  CHECK_EQ_INT(tern_rtp_writer_add_ext(&w, 1, &lvl, 1), 0);
  CHECK_EQ_INT(tern_rtp_writer_add_ext(&w, 4, "audio", 5), 0);
  CHECK_EQ_INT(tern_rtp_writer_add_csrc(&w, 5), -EINVAL); /* after extensions */
  w.err = 0;
  uint8_t op[] = {0xf8, 0xff, 0xfe};
  CHECK_EQ_INT(tern_rtp_writer_payload(&w, op, 3), 0);
  CHECK_EQ_INT(tern_rtp_writer_add_ext(&w, 2, "x", 1), -EINVAL); /* after payload */
  w.err = 0;
  int len = tern_rtp_writer_finish(&w);
  /* 12 + 4 CSRC + 4 ext hdr + (2 + 6 = 8 bytes of elements) + 3 */
  CHECK_EQ_INT(len, 31);
  struct tern_rtp p;
  REQUIRE(parse_exact(buf, (size_t)len, &p) == 0);
  CHECK(p.marker);
  CHECK_EQ_INT(p.payload_type, 111);
  CHECK_EQ_INT(p.seq, 65535);
  CHECK_EQ_INT(p.timestamp, 960);
  CHECK_EQ_INT(p.ssrc, 0xabcdef01);
  CHECK_EQ_INT(p.csrc_count, 1);
  CHECK_EQ_INT(p.ext_profile, 0xbede);
  CHECK_EQ_INT(p.payload_len, 3);
  CHECK(memcmp(p.payload, op, 3) == 0);
  const uint8_t *d;
  size_t n;
  bool voice;
  uint8_t level;
  REQUIRE(tern_rtp_ext_find(&p, 1, &d, &n) == 0);
  CHECK_EQ_INT(tern_rtp_ext_read_audio_level(d, n, &voice, &level), 0);
  CHECK(voice && level == 30);
  REQUIRE(tern_rtp_ext_find(&p, 4, &d, &n) == 0);
  CHECK(n == 5 && memcmp(d, "audio", 5) == 0);

  /* the bytes, as RFC 8285 §4.2 lays them out */
  static const uint8_t want[] = {0x91, 0xef, 0xff, 0xff, 0, 0, 0x03, 0xc0,
                                 0xab, 0xcd, 0xef, 0x01, 1, 2, 3, 4,
                                 0xbe, 0xde, 0, 2, 0x10, 0x9e, 0x44, 'a',
                                 'u', 'd', 'i', 'o', 0xf8, 0xff, 0xfe};
  CHECK(memcmp(buf, want, sizeof(want)) == 0);
}

static void test_writer_two_byte_conversion(void) {
  uint8_t buf[300];
  struct tern_rtp_writer w;
  uint8_t big[40];
  for (int i = 0; i < 40; i++)
    big[i] = (uint8_t)i;
  REQUIRE(tern_rtp_writer_init(&w, buf, sizeof(buf), 96, 1, 2, 3, false) == 0);
  CHECK_EQ_INT(tern_rtp_writer_add_ext(&w, 1, "\x81", 1), 0);
  CHECK_EQ_INT(tern_rtp_writer_add_ext(&w, 3, "\x00\x07", 2), 0);
  CHECK_EQ_INT(tern_rtp_writer_add_ext(&w, 2, "\x01\x02\x03", 3), 0);
  /* 40 bytes need the two-byte form: the three above are converted */
  CHECK_EQ_INT(tern_rtp_writer_add_ext(&w, 9, big, 40), 0);
  CHECK_EQ_INT(tern_rtp_writer_add_ext(&w, 200, "", 0), 0);
  CHECK_EQ_INT(tern_rtp_writer_add_ext(&w, 5, "m", 1), 0);
  int len = tern_rtp_writer_finish(&w);
  REQUIRE(len > 0);
  struct tern_rtp p;
  REQUIRE(parse_exact(buf, (size_t)len, &p) == 0);
  CHECK_EQ_INT(p.ext_profile, 0x1000);
  CHECK_EQ_INT(p.ext_len % 4, 0);
  CHECK_EQ_INT(p.payload_len, 0);
  struct tern_rtp_ext_iter it;
  REQUIRE(tern_rtp_ext_iter_init(&it, &p) == 0);
  uint8_t ids[8];
  size_t lens[8];
  const uint8_t *d[8];
  int k = 0;
  while (k < 8 && tern_rtp_ext_next(&it, &ids[k], &d[k], &lens[k]) > 0)
    k++;
  REQUIRE(k == 6);
  CHECK(ids[0] == 1 && lens[0] == 1 && d[0][0] == 0x81);
  CHECK(ids[1] == 3 && lens[1] == 2 && d[1][1] == 7);
  CHECK(ids[2] == 2 && lens[2] == 3 && memcmp(d[2], "\x01\x02\x03", 3) == 0);
  CHECK(ids[3] == 9 && lens[3] == 40 && memcmp(d[3], big, 40) == 0);
  CHECK(ids[4] == 200 && lens[4] == 0);
  CHECK(ids[5] == 5 && lens[5] == 1 && d[5][0] == 'm');
}

static void test_writer_limits(void) {
  uint8_t buf[40];
  struct tern_rtp_writer w;
  CHECK_EQ_INT(tern_rtp_writer_init(&w, buf, 11, 96, 0, 0, 0, false), -ENOSPC);
  CHECK_EQ_INT(tern_rtp_writer_init(&w, buf, 40, 128, 0, 0, 0, false), -EINVAL);
  /* every capacity from 12 to what is needed: -ENOSPC, never an overflow */
  uint8_t payload[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  int full = -1;
  for (size_t cap = 12; cap <= 40; cap++) {
    uint8_t *b = malloc(cap);
    REQUIRE(tern_rtp_writer_init(&w, b, cap, 96, 7, 8, 9, false) == 0);
    tern_rtp_writer_add_csrc(&w, 1);
    tern_rtp_writer_add_ext(&w, 3, "ab", 2);
    tern_rtp_writer_payload(&w, payload, sizeof(payload));
    int rc = tern_rtp_writer_finish(&w);
    if (rc > 0 && full < 0)
      full = (int)cap;
    CHECK(rc == -ENOSPC || rc == 12 + 4 + 4 + 4 + 10);
    free(b);
  }
  CHECK_EQ_INT(full, 34);
  REQUIRE(tern_rtp_writer_init(&w, buf, sizeof(buf), 96, 0, 0, 0, false) == 0);
  CHECK_EQ_INT(tern_rtp_writer_add_ext(&w, 0, "a", 1), -EINVAL);
  REQUIRE(tern_rtp_writer_init(&w, buf, sizeof(buf), 96, 0, 0, 0, false) == 0);
  uint8_t *r = tern_rtp_writer_reserve(&w, 28);
  CHECK(r == buf + 12);
  CHECK(tern_rtp_writer_reserve(&w, 1) == NULL);
  CHECK_EQ_INT(tern_rtp_writer_finish(&w), -ENOSPC);
  /* conversion to two-byte needs one byte per element: checked */
  uint8_t small[25];
  REQUIRE(tern_rtp_writer_init(&w, small, sizeof(small), 96, 0, 0, 0, false) == 0);
  CHECK_EQ_INT(tern_rtp_writer_add_ext(&w, 1, "abcd", 4), 0);
  CHECK_EQ_INT(tern_rtp_writer_add_ext(&w, 2, "ab", 2), 0);
  CHECK_EQ_INT(tern_rtp_writer_add_ext(&w, 20, "", 0), -ENOSPC);
}

int main(void) {
  RUN(test_parse_opus_with_extensions);
  RUN(test_chrome_captures);
  RUN(test_csrc_padding_two_byte);
  RUN(test_one_byte_stop_and_overrun);
  RUN(test_malformed_every_truncation);
  RUN(test_demux);
  RUN(test_abs_send_time);
  RUN(test_writer_round_trip);
  RUN(test_writer_two_byte_conversion);
  RUN(test_writer_limits);
  free(last_copy);
  return TEST_RESULT();
}
