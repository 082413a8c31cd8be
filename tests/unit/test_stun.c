/* STUN codec: RFC 5769 test vectors, writer round trips, malformed input.
 * Malformed inputs are fed from exact-size heap copies so that AddressSanitizer
 * flags any read past the end. */
#include "ice/stun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "test.h"

static const char PWD[] = "VOkJxbRl1RmTxUk/WvJxBt";

/* RFC 5769 §2.1 Sample Request. */
static const uint8_t req[] = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
    0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10,
    0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c,
    0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,
    0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76,
    0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c,
    0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};

/* RFC 5769 §2.2 Sample IPv4 Response. */
static const uint8_t resp4[] = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
    0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b,
    0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
    0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3,
    0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7,
    0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

/* RFC 5769 §2.3 Sample IPv6 Response. */
static const uint8_t resp6[] = {
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
    0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b,
    0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
    0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
    0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
    0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1,
    0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41,
    0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};

static const uint8_t txid[12] = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
                                 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

/* HMACs of the §2.1 / §2.2 messages with zero instead of 0x20 padding, as
 * published in libwebrtc's stun_unittest.cc: an independent check that our
 * writer's MESSAGE-INTEGRITY is byte-exact, not merely self-consistent. */
static const uint8_t hmac_req_zero_pad[20] = {
    0x79, 0x07, 0xc2, 0xd2, 0xed, 0xbf, 0xea, 0x48, 0x0e, 0x4c,
    0x76, 0xd8, 0x29, 0x62, 0xd5, 0xc3, 0x74, 0x2a, 0xf9, 0xe3};
static const uint8_t hmac_resp4_zero_pad[20] = {
    0x5d, 0x6b, 0x58, 0xbe, 0xad, 0x94, 0xe0, 0x7e, 0xef, 0x0d,
    0xfc, 0x12, 0x82, 0xa2, 0xbd, 0x08, 0x43, 0x14, 0x10, 0x28};

static uint8_t *dup_exact(const uint8_t *p, size_t n) {
  uint8_t *d = malloc(n ? n : 1);
  if (n)
    memcpy(d, p, n);
  return d;
}

static void set_len(uint8_t *b, size_t mlen) {
  b[2] = (uint8_t)(mlen >> 8);
  b[3] = (uint8_t)mlen;
}

/* Re-seals FINGERPRINT, assumed to be the last 8 bytes. */
static void reseal_fp(uint8_t *b, size_t n) {
  uint32_t c = tern_stun_crc32(b, n - 8) ^ TERN_STUN_FINGERPRINT_XOR;
  b[n - 4] = (uint8_t)(c >> 24);
  b[n - 3] = (uint8_t)(c >> 16);
  b[n - 2] = (uint8_t)(c >> 8);
  b[n - 1] = (uint8_t)c;
}

static void test_crc_and_type(void) {
  CHECK_EQ_INT(tern_stun_crc32((const uint8_t *)"123456789", 9), 0xCBF43926u);
  CHECK_EQ_INT(tern_stun_type(TERN_STUN_METHOD_BINDING, TERN_STUN_REQUEST),
               TERN_STUN_BINDING_REQUEST);
  CHECK_EQ_INT(tern_stun_type(TERN_STUN_METHOD_BINDING, TERN_STUN_SUCCESS),
               TERN_STUN_BINDING_SUCCESS);
  CHECK_EQ_INT(tern_stun_type(TERN_STUN_METHOD_BINDING, TERN_STUN_ERROR),
               TERN_STUN_BINDING_ERROR);
  CHECK_EQ_INT(tern_stun_type(TERN_STUN_METHOD_BINDING, TERN_STUN_INDICATION),
               TERN_STUN_BINDING_INDICATION);
  CHECK_EQ_INT(tern_stun_type(0xFFF, TERN_STUN_ERROR), 0x3FFF);
}

static void test_rfc5769_request(void) {
  struct tern_stun_msg m;
  char local[16];

  CHECK(tern_stun_is_stun(req, sizeof(req)));
  REQUIRE(tern_stun_parse(req, sizeof(req), &m) == 0);
  CHECK_EQ_INT(m.type, TERN_STUN_BINDING_REQUEST);
  CHECK_EQ_INT(m.method, TERN_STUN_METHOD_BINDING);
  CHECK_EQ_INT(m.cls, TERN_STUN_REQUEST);
  CHECK(memcmp(m.txid, txid, 12) == 0);
  REQUIRE(m.username != NULL);
  CHECK_EQ_INT(m.username_len, 9);
  CHECK(memcmp(m.username, "evtj:h6vY", 9) == 0);
  CHECK(m.has_priority);
  CHECK_EQ_INT(m.priority, 0x6e0001ffu);
  CHECK(m.has_ice_controlled);
  CHECK(m.ice_controlled == 0x932ff9b151263b36ull);
  CHECK(!m.has_ice_controlling);
  CHECK(!m.use_candidate);
  CHECK(m.has_integrity);
  CHECK_EQ_INT(m.integrity_offset, 76);
  CHECK(m.has_fingerprint);
  CHECK(m.fingerprint_ok);
  CHECK_EQ_INT(m.n_unknown, 0);
  CHECK(tern_stun_check_integrity(req, sizeof(req), &m, PWD, strlen(PWD)));
  CHECK(!tern_stun_check_integrity(req, sizeof(req), &m, "VOkJxbRl1RmTxUk/WvJxBu",
                                   strlen(PWD)));
  CHECK(!tern_stun_check_integrity(req, sizeof(req), &m, PWD, 0));

  CHECK_EQ_INT(tern_stun_username_local(&m, local, sizeof(local)), 4);
  CHECK_EQ_STR(local, "evtj");
  CHECK_EQ_INT(tern_stun_username_local(&m, local, 4), -ENOSPC);
  const uint8_t *l, *r;
  size_t ll, rl;
  REQUIRE(tern_stun_username_split(&m, &l, &ll, &r, &rl) == 0);
  CHECK(ll == 4 && memcmp(l, "evtj", 4) == 0);
  CHECK(rl == 4 && memcmp(r, "h6vY", 4) == 0);
}

static void check_response(const uint8_t *buf, size_t len, int family,
                           const char *ip, size_t mi_off) {
  struct tern_stun_msg m;
  char s[INET6_ADDRSTRLEN] = "";

  CHECK(tern_stun_is_stun(buf, len));
  REQUIRE(tern_stun_parse(buf, len, &m) == 0);
  CHECK_EQ_INT(m.type, TERN_STUN_BINDING_SUCCESS);
  CHECK_EQ_INT(m.cls, TERN_STUN_SUCCESS);
  CHECK(memcmp(m.txid, txid, 12) == 0);
  CHECK(m.username == NULL);
  CHECK_EQ_INT(tern_stun_username_local(&m, s, sizeof(s)), -ENOENT);
  REQUIRE(m.has_xor_mapped_address);
  CHECK_EQ_INT(m.xor_mapped_address.ss_family, family);
  if (family == AF_INET) {
    const struct sockaddr_in *a = (const void *)&m.xor_mapped_address;
    inet_ntop(AF_INET, &a->sin_addr, s, sizeof(s));
    CHECK_EQ_INT(ntohs(a->sin_port), 32853);
  } else {
    const struct sockaddr_in6 *a = (const void *)&m.xor_mapped_address;
    inet_ntop(AF_INET6, &a->sin6_addr, s, sizeof(s));
    CHECK_EQ_INT(ntohs(a->sin6_port), 32853);
  }
  CHECK_EQ_STR(s, ip);
  CHECK(m.has_integrity);
  CHECK_EQ_INT(m.integrity_offset, mi_off);
  CHECK(tern_stun_check_integrity(buf, len, &m, PWD, strlen(PWD)));
  CHECK(!tern_stun_check_integrity(buf, len, &m, "wrong", 5));
  CHECK(m.has_fingerprint && m.fingerprint_ok);
}

static void test_rfc5769_responses(void) {
  check_response(resp4, sizeof(resp4), AF_INET, "192.0.2.1", 48);
  check_response(resp6, sizeof(resp6), AF_INET6,
                 "2001:db8:1234:5678:11:2233:4455:6677", 60);
}

/* Writes the vector's fields with our writer. Expected bytes: the vector with
 * its 0x20 padding zeroed (our writer pads with zeros, as RFC 8489 asks). */
static void check_rewrite(const uint8_t *vec, size_t vlen, const uint8_t *out,
                          int n, size_t mi_off, const size_t *pads,
                          size_t npads, const uint8_t *hmac_zero_pad) {
  uint8_t want[128];
  struct tern_stun_msg m;

  REQUIRE(n == (int)vlen);
  memcpy(want, vec, vlen);
  for (size_t i = 0; i < npads; i++)
    want[pads[i]] = 0;
  CHECK(memcmp(out, want, mi_off + 4) == 0); /* through the MI header */
  if (hmac_zero_pad)
    CHECK(memcmp(out + mi_off + 4, hmac_zero_pad, 20) == 0);
  REQUIRE(tern_stun_parse(out, (size_t)n, &m) == 0);
  CHECK(tern_stun_check_integrity(out, (size_t)n, &m, PWD, strlen(PWD)));
  CHECK(m.has_fingerprint && m.fingerprint_ok);
}

static void test_writer_reproduces_vectors(void) {
  uint8_t out[256];
  struct tern_stun_writer w;
  int n;

  tern_stun_writer_begin(&w, out, sizeof(out), TERN_STUN_BINDING_REQUEST, txid);
  tern_stun_add_software(&w, "STUN test client");
  tern_stun_add_priority(&w, 0x6e0001ff);
  tern_stun_add_ice_controlled(&w, 0x932ff9b151263b36ull);
  tern_stun_add_username(&w, "evtj:h6vY", 9);
  n = tern_stun_writer_finish(&w, PWD, strlen(PWD), true);
  const size_t req_pads[] = {73, 74, 75};
  check_rewrite(req, sizeof(req), out, n, 76, req_pads, 3, hmac_req_zero_pad);

  struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(32853)};
  inet_pton(AF_INET, "192.0.2.1", &a4.sin_addr);
  tern_stun_writer_begin(&w, out, sizeof(out), TERN_STUN_BINDING_SUCCESS, txid);
  tern_stun_add_software(&w, "test vector");
  tern_stun_add_xor_mapped_address(&w, (struct sockaddr *)&a4);
  n = tern_stun_writer_finish(&w, PWD, strlen(PWD), true);
  const size_t resp_pads[] = {35};
  check_rewrite(resp4, sizeof(resp4), out, n, 48, resp_pads, 1,
                hmac_resp4_zero_pad);

  struct sockaddr_in6 a6 = {.sin6_family = AF_INET6,
                            .sin6_port = htons(32853)};
  inet_pton(AF_INET6, "2001:db8:1234:5678:11:2233:4455:6677", &a6.sin6_addr);
  tern_stun_writer_begin(&w, out, sizeof(out), TERN_STUN_BINDING_SUCCESS, txid);
  tern_stun_add_software(&w, "test vector");
  tern_stun_add_xor_mapped_address(&w, (struct sockaddr *)&a6);
  n = tern_stun_writer_finish(&w, PWD, strlen(PWD), true);
  check_rewrite(resp6, sizeof(resp6), out, n, 60, resp_pads, 1, NULL);
}

static void test_writer_all_attrs(void) {
  uint8_t out[256];
  struct tern_stun_writer w;
  struct tern_stun_msg m;

  tern_stun_writer_begin(&w, out, sizeof(out), TERN_STUN_BINDING_ERROR, txid);
  tern_stun_add_username(&w, "abcd:efgh", 9);
  tern_stun_add_priority(&w, 1234);
  tern_stun_add_use_candidate(&w);
  tern_stun_add_ice_controlling(&w, 0x0102030405060708ull);
  tern_stun_add_error_code(&w, 487, "Role Conflict");
  const uint16_t unk[] = {0x0031, 0x0032};
  tern_stun_add_unknown_attributes(&w, unk, 2);
  int n = tern_stun_writer_finish(&w, NULL, 0, false);
  REQUIRE(n > 0);
  REQUIRE(tern_stun_parse(out, (size_t)n, &m) == 0);
  CHECK_EQ_INT(m.cls, TERN_STUN_ERROR);
  CHECK(m.username_len == 9 && memcmp(m.username, "abcd:efgh", 9) == 0);
  CHECK(m.has_priority && m.priority == 1234);
  CHECK(m.use_candidate);
  CHECK(m.has_ice_controlling && m.ice_controlling == 0x0102030405060708ull);
  CHECK(m.has_error_code);
  CHECK_EQ_INT(m.error_code, 487);
  CHECK(m.error_reason_len == 13 &&
        memcmp(m.error_reason, "Role Conflict", 13) == 0);
  CHECK(!m.has_integrity && !m.has_fingerprint);
  CHECK(!tern_stun_check_integrity(out, (size_t)n, &m, PWD, strlen(PWD)));

  /* Bad arguments are sticky errors. */
  tern_stun_writer_begin(&w, out, sizeof(out), TERN_STUN_BINDING_ERROR, txid);
  tern_stun_add_error_code(&w, 200, "x");
  CHECK_EQ_INT(tern_stun_writer_finish(&w, NULL, 0, true), -EINVAL);
  struct sockaddr bad = {.sa_family = AF_UNIX};
  tern_stun_writer_begin(&w, out, sizeof(out), TERN_STUN_BINDING_ERROR, txid);
  tern_stun_add_xor_mapped_address(&w, &bad);
  CHECK_EQ_INT(tern_stun_writer_finish(&w, NULL, 0, true), -EAFNOSUPPORT);
}

/* Every capacity short of the full message must give -ENOSPC without
 * writing past the (exact-size heap) buffer. */
static void test_writer_enospc(void) {
  struct tern_stun_writer w;
  int full = 0;
  for (size_t cap = 0; cap <= 128; cap++) {
    uint8_t *b = malloc(cap ? cap : 1);
    tern_stun_writer_begin(&w, cap ? b : NULL, cap, TERN_STUN_BINDING_REQUEST,
                           txid);
    tern_stun_add_username(&w, "evtj:h6vY", 9);
    tern_stun_add_priority(&w, 1);
    tern_stun_add_ice_controlling(&w, 2);
    tern_stun_add_use_candidate(&w);
    int n = tern_stun_writer_finish(&w, PWD, strlen(PWD), true);
    if (n > 0) {
      if (!full)
        full = n;
      CHECK((size_t)n <= cap);
    } else {
      CHECK_EQ_INT(n, -ENOSPC);
    }
    free(b);
  }
  /* 20 + 16 + 8 + 12 + 4 + 24 + 8 */
  CHECK_EQ_INT(full, 92);
}

static void test_is_stun_rejects(void) {
  uint8_t b[sizeof(req)];
  struct tern_stun_msg m;

  CHECK(!tern_stun_is_stun(NULL, 0));
  for (size_t n = 0; n < sizeof(req); n++)
    CHECK(!tern_stun_is_stun(req, n));
  memcpy(b, req, sizeof(b));
  b[0] |= 0x40; /* not STUN: RTP/DTLS range */
  CHECK(!tern_stun_is_stun(b, sizeof(b)));
  memcpy(b, req, sizeof(b));
  b[4] ^= 1; /* cookie */
  CHECK(!tern_stun_is_stun(b, sizeof(b)));
  memcpy(b, req, sizeof(b));
  set_len(b, 0x57); /* not a multiple of 4 */
  CHECK(!tern_stun_is_stun(b, sizeof(b)));
  set_len(b, 0x54); /* inconsistent with the datagram */
  CHECK(!tern_stun_is_stun(b, sizeof(b)));
  CHECK_EQ_INT(tern_stun_parse(b, sizeof(b), &m), -EPROTO);
  set_len(b, 0x5c);
  CHECK(!tern_stun_is_stun(b, sizeof(b)));
}

/* Truncate at every length and also patch the header length so the message
 * passes tern_stun_is_stun and the attribute walk meets the cut. */
static void test_truncated(void) {
  const struct {
    const uint8_t *b;
    size_t n, mi_end;
  } vecs[] = {{req, sizeof(req), 100},
              {resp4, sizeof(resp4), 72},
              {resp6, sizeof(resp6), 84}};
  for (size_t v = 0; v < 3; v++) {
    for (size_t n = 0; n < vecs[v].n; n++) {
      struct tern_stun_msg m;
      uint8_t *b = dup_exact(vecs[v].b, n);
      CHECK_EQ_INT(tern_stun_parse(b, n, &m), -EPROTO);
      if (n >= 20 && n % 4 == 0) {
        set_len(b, n - 20);
        int r = tern_stun_parse(b, n, &m);
        /* A cut on an attribute boundary is a valid (shorter) message: it
         * must not claim the FINGERPRINT it lost, and MESSAGE-INTEGRITY
         * verifies only when it survived whole (it does not cover what
         * follows it, so dropping FINGERPRINT alone keeps it valid). */
        if (r == 0) {
          CHECK(!m.has_fingerprint);
          if (m.has_integrity)
            CHECK(tern_stun_check_integrity(b, n, &m, PWD, strlen(PWD)) ==
                  (n >= vecs[v].mi_end));
        } else {
          CHECK_EQ_INT(r, -EPROTO);
        }
      }
      free(b);
    }
  }
}

static void test_bad_attributes(void) {
  uint8_t *b;
  struct tern_stun_msg m;

  /* USERNAME length running past the end (65535 and just-past). */
  b = dup_exact(req, sizeof(req));
  b[62] = 0xff;
  b[63] = 0xff;
  CHECK_EQ_INT(tern_stun_parse(b, sizeof(req), &m), -EPROTO);
  b[62] = 0;
  b[63] = 45; /* pads to 48 > 44 bytes left */
  CHECK_EQ_INT(tern_stun_parse(b, sizeof(req), &m), -EPROTO);
  free(b);

  /* Known attributes with wrong lengths. */
  b = dup_exact(req, sizeof(req));
  b[43] = 8; /* PRIORITY of 8 bytes: walks fine, but is malformed */
  CHECK_EQ_INT(tern_stun_parse(b, sizeof(req), &m), -EPROTO);
  free(b);
  b = dup_exact(resp4, sizeof(resp4));
  b[41] = 0x03; /* XOR-MAPPED-ADDRESS family 3 */
  CHECK_EQ_INT(tern_stun_parse(b, sizeof(resp4), &m), -EPROTO);
  b[41] = 0x02; /* IPv6 family with an IPv4-sized value */
  CHECK_EQ_INT(tern_stun_parse(b, sizeof(resp4), &m), -EPROTO);
  free(b);
  b = dup_exact(req, sizeof(req));
  b[79] = 0x10; /* MESSAGE-INTEGRITY of 16 bytes */
  CHECK_EQ_INT(tern_stun_parse(b, sizeof(req), &m), -EPROTO);
  free(b);

  /* Unknown comprehension-required attribute: reported, not fatal; unknown
   * optional ones are skipped. Re-type SOFTWARE (0x8022) in place. */
  b = dup_exact(req, sizeof(req));
  b[20] = 0x00;
  b[21] = 0x31;
  reseal_fp(b, sizeof(req));
  REQUIRE(tern_stun_parse(b, sizeof(req), &m) == 0);
  CHECK_EQ_INT(m.n_unknown, 1);
  CHECK_EQ_INT(m.unknown[0], 0x0031);
  CHECK(m.fingerprint_ok);
  CHECK(!tern_stun_check_integrity(b, sizeof(req), &m, PWD, strlen(PWD)));
  b[20] = 0xC0;
  reseal_fp(b, sizeof(req));
  REQUIRE(tern_stun_parse(b, sizeof(req), &m) == 0);
  CHECK_EQ_INT(m.n_unknown, 0);
  free(b);
}

static void test_fingerprint_and_integrity_tamper(void) {
  uint8_t *b = dup_exact(req, sizeof(req));
  struct tern_stun_msg m;

  b[sizeof(req) - 1] ^= 1; /* wrong fingerprint */
  REQUIRE(tern_stun_parse(b, sizeof(req), &m) == 0);
  CHECK(m.has_fingerprint && !m.fingerprint_ok);
  CHECK(tern_stun_check_integrity(b, sizeof(req), &m, PWD, strlen(PWD)));
  b[sizeof(req) - 1] ^= 1;

  b[47] ^= 1; /* PRIORITY changed: both checks fail */
  REQUIRE(tern_stun_parse(b, sizeof(req), &m) == 0);
  CHECK(!m.fingerprint_ok);
  CHECK(!tern_stun_check_integrity(b, sizeof(req), &m, PWD, strlen(PWD)));
  reseal_fp(b, sizeof(req)); /* an attacker can fix CRC, not the HMAC */
  REQUIRE(tern_stun_parse(b, sizeof(req), &m) == 0);
  CHECK(m.fingerprint_ok);
  CHECK(!tern_stun_check_integrity(b, sizeof(req), &m, PWD, strlen(PWD)));
  free(b);

  /* A parsed struct from another buffer is not trusted for this one. */
  REQUIRE(tern_stun_parse(req, sizeof(req), &m) == 0);
  CHECK(!tern_stun_check_integrity(resp4, sizeof(resp4), &m, PWD, strlen(PWD)));
}

static void test_attribute_order(void) {
  struct tern_stun_msg m;
  uint8_t b[sizeof(req) + 4];

  /* USE-CANDIDATE inserted after MESSAGE-INTEGRITY: ignored, and the HMAC
   * still verifies because its length is adjusted to end at MI. */
  memcpy(b, req, 100);
  b[100] = 0x00;
  b[101] = 0x25;
  b[102] = b[103] = 0;
  memcpy(b + 104, req + 100, 8);
  set_len(b, sizeof(b) - 20);
  reseal_fp(b, sizeof(b));
  REQUIRE(tern_stun_parse(b, sizeof(b), &m) == 0);
  CHECK(!m.use_candidate);
  CHECK(m.fingerprint_ok);
  CHECK(tern_stun_check_integrity(b, sizeof(b), &m, PWD, strlen(PWD)));

  /* Anything after FINGERPRINT: the message is rejected. */
  memcpy(b, req, sizeof(req));
  b[108] = 0x00;
  b[109] = 0x25;
  b[110] = b[111] = 0;
  set_len(b, sizeof(b) - 20);
  CHECK_EQ_INT(tern_stun_parse(b, sizeof(b), &m), -EPROTO);
}

/* Single-byte corruption everywhere: must never crash or read out of bounds
 * (ASan), and must never verify. */
static void test_bitflips(void) {
  const uint8_t x[] = {0x01, 0x80, 0xff, 0x10};
  for (size_t i = 0; i < sizeof(req); i++) {
    for (size_t k = 0; k < sizeof(x); k++) {
      uint8_t *b = dup_exact(req, sizeof(req));
      struct tern_stun_msg m;
      b[i] ^= x[k];
      if (tern_stun_parse(b, sizeof(req), &m) == 0) {
        bool ok = m.has_fingerprint && m.fingerprint_ok &&
                  tern_stun_check_integrity(b, sizeof(req), &m, PWD, strlen(PWD));
        CHECK(!ok);
      }
      free(b);
    }
  }
  /* Pseudo-random garbage with a valid header. */
  uint32_t s = 12345;
  for (int it = 0; it < 2000; it++) {
    size_t n = 20 + 4 * (size_t)(it % 40);
    uint8_t *b = malloc(n);
    for (size_t i = 0; i < n; i++) {
      s = s * 1103515245u + 12345u;
      b[i] = (uint8_t)(s >> 16);
    }
    b[0] &= 0x3f;
    b[4] = 0x21, b[5] = 0x12, b[6] = 0xa4, b[7] = 0x42;
    set_len(b, n - 20);
    struct tern_stun_msg m;
    char local[64];
    if (tern_stun_parse(b, n, &m) == 0) {
      (void)tern_stun_username_local(&m, local, sizeof(local));
      (void)tern_stun_check_integrity(b, n, &m, PWD, strlen(PWD));
    }
    free(b);
  }
}

int main(void) {
  RUN(test_crc_and_type);
  RUN(test_rfc5769_request);
  RUN(test_rfc5769_responses);
  RUN(test_writer_reproduces_vectors);
  RUN(test_writer_all_attrs);
  RUN(test_writer_enospc);
  RUN(test_is_stun_rejects);
  RUN(test_truncated);
  RUN(test_bad_attributes);
  RUN(test_fingerprint_and_integrity_tamper);
  RUN(test_attribute_order);
  RUN(test_bitflips);
  return TEST_RESULT();
}
