/* test_srtp — tern_srtp against known answers and an independent model.
 *
 * Three sources of truth: RFC 3711 Appendix B (key derivation B.3 and the
 * AES-CM keystream B.2), libsrtp's own reference packets (srtp_validate and
 * srtp_validate_gcm in its test driver: facts, re-typed here), and a small
 * SRTP model written here on OpenSSL (AES-CM KDF, AES-CTR + HMAC-SHA1,
 * AES-GCM per RFC 7714 §8-9) that must agree with both before it is used to
 * check 1200-byte packets with CSRCs and extensions.
 *
 * TERN_SRTP_BENCH=1 also prints the protect cost per 1200-byte packet.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <time.h>

#include "dtls/dtls.h"
#include "srtp/srtp.h"
#include "test.h"

/* ---- the model ---------------------------------------------------------- */

static void aes_ctr(const uint8_t key[16], const uint8_t iv[16], const uint8_t *in,
                    uint8_t *out, size_t len) {
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int n;
  EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, key, iv);
  EVP_EncryptUpdate(c, out, &n, in, (int)len);
  EVP_CIPHER_CTX_free(c);
}

/* RFC 3711 §4.3 with key_derivation_rate 0: x = label at byte 7 XOR salt,
 * keystream of AES-CM(master key, x * 2^16). A 12-byte (GCM) salt fills the
 * top 96 of the 112 bits (RFC 7714 §11). */
static void kdf(const uint8_t mkey[16], const uint8_t *msalt, size_t salt_len,
                uint8_t label, uint8_t *out, size_t len) {
  uint8_t iv[16] = {0}, zero[64] = {0};
  memcpy(iv, msalt, salt_len);
  iv[7] ^= label;
  aes_ctr(mkey, iv, zero, out, len);
}

struct model_keys {
  uint8_t k[16], salt[14], auth[20];
};

static void model_derive(struct model_keys *m, const uint8_t *mkey, const uint8_t *msalt,
                         size_t salt_len, int rtcp) {
  uint8_t base = rtcp ? 3 : 0;
  kdf(mkey, msalt, salt_len, base, m->k, 16);
  kdf(mkey, msalt, salt_len, base + 1, m->auth, 20);
  kdf(mkey, msalt, salt_len, base + 2, m->salt, salt_len == 12 ? 12 : 14);
}

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static size_t rtp_hlen(const uint8_t *p) {
  size_t h = 12 + 4u * (p[0] & 15);
  if (p[0] & 0x10)
    h += 4 + 4u * ((size_t)p[h + 2] << 8 | p[h + 3]);
  return h;
}

/* SRTP AES_CM_128_HMAC_SHA1_80, ROC 0. Returns the output length. */
static size_t model_cm_rtp(const struct model_keys *m, const uint8_t *in, size_t len,
                           uint8_t *out) {
  size_t h = rtp_hlen(in);
  uint8_t iv[16] = {0}, mac[20], roc[4] = {0};
  unsigned ml;
  memcpy(iv, m->salt, 14);
  for (int i = 0; i < 4; i++)
    iv[4 + i] ^= in[8 + i];      /* SSRC * 2^64 */
  iv[12] ^= in[2], iv[13] ^= in[3]; /* index (ROC 0) * 2^16 */
  memcpy(out, in, h);
  aes_ctr(m->k, iv, in + h, out + h, len - h);
  /* the tag covers the packet and the 4-byte ROC, placed where it will go */
  memcpy(out + len, roc, 4);
  HMAC(EVP_sha1(), m->auth, 20, out, len + 4, mac, &ml);
  memcpy(out + len, mac, 10);
  return len + 10;
}

static size_t model_cm_rtcp(const struct model_keys *m, const uint8_t *in, size_t len,
                            uint32_t index, uint8_t *out) {
  uint8_t iv[16] = {0}, mac[20];
  unsigned ml;
  memcpy(iv, m->salt, 14);
  for (int i = 0; i < 4; i++)
    iv[4 + i] ^= in[4 + i];
  iv[10] ^= (uint8_t)(index >> 24), iv[11] ^= (uint8_t)(index >> 16);
  iv[12] ^= (uint8_t)(index >> 8), iv[13] ^= (uint8_t)index;
  memcpy(out, in, 8);
  aes_ctr(m->k, iv, in + 8, out + 8, len - 8);
  uint32_t e = 0x80000000u | index;
  uint8_t *t = out + len;
  t[0] = (uint8_t)(e >> 24), t[1] = (uint8_t)(e >> 16), t[2] = (uint8_t)(e >> 8), t[3] = (uint8_t)e;
  HMAC(EVP_sha1(), m->auth, 20, out, len + 4, mac, &ml);
  memcpy(out + len + 4, mac, 10);
  return len + 14;
}

static void gcm(const uint8_t key[16], const uint8_t iv[12], const uint8_t *aad,
                size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
                uint8_t tag[16]) {
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int n;
  EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, key, iv);
  EVP_EncryptUpdate(c, NULL, &n, aad, (int)aad_len);
  EVP_EncryptUpdate(c, out, &n, in, (int)len);
  EVP_EncryptFinal_ex(c, out + n, &n);
  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag);
  EVP_CIPHER_CTX_free(c);
}

/* RFC 7714 §8.1: IV = (00 00 || SSRC || ROC || SEQ) XOR salt, AAD = header. */
static size_t model_gcm_rtp(const struct model_keys *m, const uint8_t *in, size_t len,
                            uint8_t *out) {
  size_t h = rtp_hlen(in);
  uint8_t iv[12] = {0};
  memcpy(iv + 2, in + 8, 4);
  iv[10] = in[2], iv[11] = in[3];
  for (int i = 0; i < 12; i++)
    iv[i] ^= m->salt[i];
  memcpy(out, in, h);
  gcm(m->k, iv, in, h, in + h, len - h, out + h, out + len);
  return len + 16;
}

/* RFC 7714 §9: IV = (00 00 || SSRC || 00 00 || index) XOR salt, AAD = the
 * first 8 bytes and E||index, which follows the tag on the wire. */
static size_t model_gcm_rtcp(const struct model_keys *m, const uint8_t *in, size_t len,
                             uint32_t index, uint8_t *out) {
  uint8_t iv[12] = {0}, aad[12];
  memcpy(iv + 2, in + 4, 4);
  iv[8] = (uint8_t)(index >> 24), iv[9] = (uint8_t)(index >> 16);
  iv[10] = (uint8_t)(index >> 8), iv[11] = (uint8_t)index;
  for (int i = 0; i < 12; i++)
    iv[i] ^= m->salt[i];
  uint32_t e = 0x80000000u | index;
  memcpy(aad, in, 8);
  aad[8] = (uint8_t)(e >> 24), aad[9] = (uint8_t)(e >> 16), aad[10] = (uint8_t)(e >> 8), aad[11] = (uint8_t)e;
  memcpy(out, in, 8);
  gcm(m->k, iv, aad, 12, in + 8, len - 8, out + 8, out + len);
  memcpy(out + len + 16, aad + 8, 4);
  return len + 20;
}

/* ---- vectors -------------------------------------------------------------- */

static void unhex(const char *s, uint8_t *out, size_t *len) {
  size_t n = 0;
  for (; s[0] && s[1]; s += 2) {
    unsigned v;
    sscanf(s, "%2x", &v);
    out[n++] = (uint8_t)v;
  }
  *len = n;
}

static int eq_hex(const uint8_t *b, size_t len, const char *hex) {
  uint8_t want[2048];
  size_t n;
  unhex(hex, want, &n);
  if (n != len || memcmp(b, want, len) != 0) {
    fprintf(stderr, "  got  ");
    for (size_t i = 0; i < len; i++)
      fprintf(stderr, "%02x", b[i]);
    fprintf(stderr, "\n  want %s\n", hex);
    return 0;
  }
  return 1;
}

/* RFC 3711 B.3 master key and salt (also libsrtp's srtp_validate key). */
#define B3_KEY "e1f97a0d3e018be0d64fa32c06de4139"
#define B3_SALT "0ec675ad498afeebb6960b3aabe6"
/* libsrtp srtp_validate_gcm key and salt. */
#define GCM_KEY "000102030405060708090a0b0c0d0e0f"
#define GCM_SALT "a0a1a2a3a4a5a6a7a8a9aaab"
#define REF_RTP "800f1234decafbadcafebabeabababababababababababababababab"
#define REF_RTCP "81c8000bcafebabeabababababababababababababababab"

static void keying(struct tern_srtp_keying *k, int profile, const char *lkey,
                   const char *lsalt, const char *rkey, const char *rsalt) {
  memset(k, 0, sizeof(*k));
  k->profile = profile;
  unhex(lkey, k->local_key, &k->key_len);
  unhex(lsalt, k->local_salt, &k->salt_len);
  size_t a, b;
  unhex(rkey, k->remote_key, &a);
  unhex(rsalt, k->remote_salt, &b);
}

static void swap_keying(const struct tern_srtp_keying *k, struct tern_srtp_keying *o) {
  *o = *k;
  memcpy(o->local_key, k->remote_key, 16);
  memcpy(o->remote_key, k->local_key, 16);
  memcpy(o->local_salt, k->remote_salt, 14);
  memcpy(o->remote_salt, k->local_salt, 14);
}

static void test_rfc3711_b3_kdf(void) {
  uint8_t mk[16], ms[14], out[20];
  size_t n;
  unhex(B3_KEY, mk, &n);
  unhex(B3_SALT, ms, &n);
  kdf(mk, ms, 14, 0, out, 16);
  CHECK(eq_hex(out, 16, "c61e7a93744f39ee10734afe3ff7a087"));
  kdf(mk, ms, 14, 2, out, 14);
  CHECK(eq_hex(out, 14, "30cbbc08863d8c85d49db34a9ae1"));
  kdf(mk, ms, 14, 1, out, 20);
  CHECK(eq_hex(out, 20, "cebe321f6ff7716b6fd4ab49af256a156d38baa4"));
}

static void test_rfc3711_b2_keystream(void) {
  uint8_t key[16], iv[16] = {0}, zero[48] = {0}, ks[48];
  size_t n;
  unhex("2b7e151628aed2a6abf7158809cf4f3c", key, &n);
  unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfd", iv, &n); /* SSRC 0, index 0 */
  aes_ctr(key, iv, zero, ks, sizeof(ks));
  CHECK(eq_hex(ks, 48, "e03ead0935c95e80e166b16dd92b4eb4"
                       "d23513162b02d0f72a43a2fe4a5f97ab"
                       "41e95b3bb0a2e8dd477901e4fca894c0"));
}

/* Protects ref with a session keyed by k, checks the output, then a peer
 * session with the keys swapped unprotects it back. */
static void known_answer(const struct tern_srtp_keying *k, const char *plain_hex,
                         const char *want_hex, int rtcp) {
  uint8_t plain[64], *buf;
  size_t plen, len;
  unhex(plain_hex, plain, &plen);
  struct tern_srtp *s = tern_srtp_create(k);
  struct tern_srtp_keying kp;
  swap_keying(k, &kp);
  struct tern_srtp *p = tern_srtp_create(&kp);
  REQUIRE(s && p);
  size_t cap = plen + (rtcp ? tern_srtp_rtcp_overhead(s) : tern_srtp_rtp_overhead(s));
  buf = malloc(cap); /* exact size: ASan sees any write past the trailer */
  memcpy(buf, plain, plen);
  len = plen;
  CHECK_EQ_INT(rtcp ? tern_srtp_protect_rtcp(s, buf, &len, cap)
                    : tern_srtp_protect(s, buf, &len, cap), 0);
  CHECK_EQ_INT(len, cap);
  CHECK(eq_hex(buf, len, want_hex));
  CHECK_EQ_INT(rtcp ? tern_srtp_unprotect_rtcp(p, buf, &len)
                    : tern_srtp_unprotect(p, buf, &len), 0);
  CHECK_EQ_INT(len, plen);
  CHECK(memcmp(buf, plain, plen) == 0);
  free(buf);
  tern_srtp_destroy(s);
  tern_srtp_destroy(p);
}

static void test_cm_reference_packets(void) {
  struct tern_srtp_keying k;
  keying(&k, TERN_SRTP_AES128_CM_SHA1_80, B3_KEY, B3_SALT, GCM_KEY, B3_SALT);
  const char *rtp = "800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb";
  const char *rtcp = "81c8000bcafebabe7128035be487b9bdbef89041f977a5a880000001993e08cd54d6c1230798";
  known_answer(&k, REF_RTP, rtp, 0);
  known_answer(&k, REF_RTCP, rtcp, 1);

  /* the model reproduces them, so it can be trusted below */
  struct model_keys m, mc;
  uint8_t in[64], out[128];
  size_t n;
  model_derive(&m, k.local_key, k.local_salt, 14, 0);
  model_derive(&mc, k.local_key, k.local_salt, 14, 1);
  unhex(REF_RTP, in, &n);
  CHECK(eq_hex(out, model_cm_rtp(&m, in, n, out), rtp));
  unhex(REF_RTCP, in, &n);
  CHECK(eq_hex(out, model_cm_rtcp(&mc, in, n, 1, out), rtcp));
}

static void test_gcm_reference_packets(void) {
  struct tern_srtp_keying k;
  keying(&k, TERN_SRTP_AEAD_AES_128_GCM, GCM_KEY, GCM_SALT, B3_KEY, GCM_SALT);
  const char *rtp = "800f1234decafbadcafebabe"
                    "c5002ede04cfdd2eb91159e0880aa06ed2976826f796b201df3131a127e8a392";
  const char *rtcp = "81c8000bcafebabe"
                     "c98b8b5df0392a55852b6c21ac8e7025c52c6fbea2b3b446ea31123ba88ce61e80000001";
  known_answer(&k, REF_RTP, rtp, 0);
  known_answer(&k, REF_RTCP, rtcp, 1);

  struct model_keys m, mc;
  uint8_t in[64], out[128];
  size_t n;
  model_derive(&m, k.local_key, k.local_salt, 12, 0);
  model_derive(&mc, k.local_key, k.local_salt, 12, 1);
  unhex(REF_RTP, in, &n);
  CHECK(eq_hex(out, model_gcm_rtp(&m, in, n, out), rtp));
  unhex(REF_RTCP, in, &n);
  CHECK(eq_hex(out, model_gcm_rtcp(&mc, in, n, 1, out), rtcp));
}

/* A 1200-byte RTP packet with 2 CSRCs and a one-byte-header extension. */
static size_t big_packet(uint8_t *p, uint16_t seq, uint32_t ssrc) {
  memset(p, 0, 1200);
  p[0] = 0x92; /* V=2, X, CC=2 */
  p[1] = 96;
  p[2] = (uint8_t)(seq >> 8), p[3] = (uint8_t)seq;
  p[4] = 0x11, p[5] = 0x22, p[6] = 0x33, p[7] = 0x44;
  p[8] = (uint8_t)(ssrc >> 24), p[9] = (uint8_t)(ssrc >> 16);
  p[10] = (uint8_t)(ssrc >> 8), p[11] = (uint8_t)ssrc;
  /* CSRCs at 12..19, extension header at 20: 0xBEDE, length 1 */
  p[20] = 0xbe, p[21] = 0xde, p[23] = 1;
  p[24] = 0x10, p[25] = 0x7f; /* id 1, len 1 */
  for (size_t i = 28; i < 1200; i++)
    p[i] = (uint8_t)(i * 7 + seq);
  return 1200;
}

static void model_check_profile(int profile) {
  struct tern_srtp_keying k;
  int gcm_p = profile == TERN_SRTP_AEAD_AES_128_GCM;
  keying(&k, profile, B3_KEY, gcm_p ? GCM_SALT : B3_SALT, GCM_KEY, B3_SALT);
  struct tern_srtp *s = tern_srtp_create(&k);
  REQUIRE(s);
  struct model_keys m;
  model_derive(&m, k.local_key, k.local_salt, k.salt_len, 0);
  static uint8_t in[1200], buf[1300], want[1300];
  uint16_t seqs[] = {0, 1, 2, 100, 65000};
  for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
    size_t len = big_packet(in, seqs[i], 0x5eed0001u + (uint32_t)(i & 1));
    memcpy(buf, in, len);
    size_t wl = gcm_p ? model_gcm_rtp(&m, in, len, want) : model_cm_rtp(&m, in, len, want);
    CHECK_EQ_INT(tern_srtp_protect(s, buf, &len, sizeof(buf)), 0);
    CHECK_EQ_INT(len, wl);
    CHECK(memcmp(buf, want, wl) == 0);
    CHECK(rd32(buf + 8) == 0x5eed0001u + (uint32_t)(i & 1));
  }
  tern_srtp_destroy(s);
}

static void test_model_large_packets(void) {
  model_check_profile(TERN_SRTP_AES128_CM_SHA1_80);
  model_check_profile(TERN_SRTP_AEAD_AES_128_GCM);
}

/* ---- behaviour ------------------------------------------------------------ */

static void pair(int profile, struct tern_srtp **a, struct tern_srtp **b) {
  struct tern_srtp_keying k, kp;
  int gcm_p = profile == TERN_SRTP_AEAD_AES_128_GCM;
  keying(&k, profile, "00112233445566778899aabbccddeeff",
         gcm_p ? "0102030405060708090a0b0c" : "0102030405060708090a0b0c0d0e",
         "ffeeddccbbaa99887766554433221100",
         gcm_p ? "a1a2a3a4a5a6a7a8a9aaabac" : "a1a2a3a4a5a6a7a8a9aaabacadae");
  swap_keying(&k, &kp);
  *a = tern_srtp_create(&k);
  *b = tern_srtp_create(&kp);
}

static void round_trip(int profile) {
  struct tern_srtp *a, *b;
  pair(profile, &a, &b);
  REQUIRE(a && b);
  static uint8_t in[1200];
  /* both directions, several SSRCs, no setup per SSRC */
  for (int dir = 0; dir < 2; dir++) {
    struct tern_srtp *tx = dir ? b : a, *rx = dir ? a : b;
    for (int i = 0; i < 200; i++) {
      size_t len = big_packet(in, (uint16_t)(65500 + i), 1000u + (uint32_t)(i % 3));
      len -= (size_t)(i * 5); /* varied sizes */
      size_t cap = len + tern_srtp_rtp_overhead(tx);
      uint8_t *buf = malloc(cap);
      memcpy(buf, in, len);
      size_t l = len;
      CHECK_EQ_INT(tern_srtp_protect(tx, buf, &l, cap), 0);
      CHECK(memcmp(buf + 28, in + 28, 16) != 0); /* payload encrypted */
      CHECK_EQ_INT(tern_srtp_unprotect(rx, buf, &l), 0);
      CHECK_EQ_INT(l, len);
      CHECK(memcmp(buf, in, len) == 0);
      free(buf);
    }
    /* RTCP: SR + SDES compound, from two SSRCs */
    for (int i = 0; i < 50; i++) {
      uint8_t rt[] = {0x80, 200, 0, 6, 0, 0, 0x10, (uint8_t)(i & 1), 1, 2, 3, 4, 5, 6, 7, 8,
                      9, 10, 11, 12, 0, 0, 0, 1, 0, 0, 0, 100,
                      0x81, 202, 0, 2, 0, 0, 0x10, 0, 1, 1, 'x', 0};
      size_t len = sizeof(rt), cap = len + tern_srtp_rtcp_overhead(tx);
      uint8_t *buf = malloc(cap);
      memcpy(buf, rt, len);
      CHECK_EQ_INT(tern_srtp_protect_rtcp(tx, buf, &len, cap), 0);
      CHECK_EQ_INT(len, cap);
      CHECK_EQ_INT(tern_srtp_unprotect_rtcp(rx, buf, &len), 0);
      CHECK_EQ_INT(len, sizeof(rt));
      CHECK(memcmp(buf, rt, sizeof(rt)) == 0);
      free(buf);
    }
  }
  CHECK_EQ_INT(tern_srtp_get_stats(a)->rtp_protected, 200);
  CHECK_EQ_INT(tern_srtp_get_stats(b)->rtp_unprotected, 200);
  CHECK_EQ_INT(tern_srtp_get_stats(a)->rtcp_unprotected, 50);
  CHECK_EQ_INT(tern_srtp_get_stats(b)->auth_failures + tern_srtp_get_stats(b)->replays +
                   tern_srtp_get_stats(b)->errors, 0);
  tern_srtp_destroy(a);
  tern_srtp_destroy(b);
}

static void test_round_trip_gcm(void) { round_trip(TERN_SRTP_AEAD_AES_128_GCM); }
static void test_round_trip_cm(void) { round_trip(TERN_SRTP_AES128_CM_SHA1_80); }

static void tamper(int profile) {
  struct tern_srtp *a, *b;
  pair(profile, &a, &b);
  REQUIRE(a && b);
  static uint8_t in[1200], buf[1300];
  size_t len = big_packet(in, 7, 42);
  CHECK_EQ_INT(tern_srtp_protect(a, in, &len, sizeof(in) + 0), -ENOSPC);
  len = big_packet(in, 7, 42);
  memcpy(buf, in, len);
  CHECK_EQ_INT(tern_srtp_protect(a, buf, &len, sizeof(buf)), 0);
  size_t plen = len;
  static uint8_t prot[1300];
  memcpy(prot, buf, plen);
  /* one flipped bit in the header, the payload, the tag: each rejected */
  size_t where[] = {2, 100, plen - 1};
  for (size_t i = 0; i < 3; i++) {
    memcpy(buf, prot, plen);
    buf[where[i]] ^= 0x01;
    len = plen;
    CHECK_EQ_INT(tern_srtp_unprotect(b, buf, &len), -EBADMSG);
  }
  CHECK_EQ_INT(tern_srtp_get_stats(b)->auth_failures, 3);
  /* the genuine packet still passes after the forgeries */
  memcpy(buf, prot, plen);
  len = plen;
  CHECK_EQ_INT(tern_srtp_unprotect(b, buf, &len), 0);
  /* RTCP tag */
  uint8_t rt[] = {0x81, 201, 0, 1, 0, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  rt[3] = 1;
  len = 8;
  CHECK_EQ_INT(tern_srtp_protect_rtcp(a, rt, &len, sizeof(rt)), 0);
  rt[len - 5] ^= 0x80;
  CHECK_EQ_INT(tern_srtp_unprotect_rtcp(b, rt, &len), -EBADMSG);
  CHECK_EQ_INT(tern_srtp_get_stats(b)->auth_failures, 4);
  tern_srtp_destroy(a);
  tern_srtp_destroy(b);
}

static void test_tamper_gcm(void) { tamper(TERN_SRTP_AEAD_AES_128_GCM); }
static void test_tamper_cm(void) { tamper(TERN_SRTP_AES128_CM_SHA1_80); }

static int send_recv(struct tern_srtp *a, struct tern_srtp *b, uint16_t seq,
                     uint8_t *saved, size_t *saved_len) {
  static uint8_t buf[1300];
  size_t len = big_packet(buf, seq, 99) - 1000;
  tern_srtp_protect(a, buf, &len, sizeof(buf));
  if (saved) {
    memcpy(saved, buf, len);
    *saved_len = len;
  }
  return tern_srtp_unprotect(b, buf, &len);
}

static void replay(int profile) {
  struct tern_srtp *a, *b;
  pair(profile, &a, &b);
  REQUIRE(a && b);
  static uint8_t saved[1300], copy[1300];
  size_t sl, len;
  CHECK_EQ_INT(send_recv(a, b, 10, saved, &sl), 0);
  memcpy(copy, saved, sl);
  len = sl;
  CHECK_EQ_INT(tern_srtp_unprotect(b, copy, &len), -EALREADY);
  CHECK_EQ_INT(tern_srtp_get_stats(b)->replays, 1);
  /* reordering within the 1024-packet window is accepted... */
  static uint8_t late[1300], p12[1300];
  size_t ll = big_packet(late, 11, 99) - 1000;
  size_t l12 = big_packet(p12, 12, 99) - 1000;
  CHECK_EQ_INT(tern_srtp_protect(a, late, &ll, sizeof(late)), 0);
  CHECK_EQ_INT(tern_srtp_protect(a, p12, &l12, sizeof(p12)), 0);
  for (uint16_t s = 13; s < 1013; s++)
    CHECK_EQ_INT(send_recv(a, b, s, NULL, NULL), 0);
  CHECK_EQ_INT(tern_srtp_unprotect(b, p12, &l12), 0);
  /* ...but a packet more than 1024 behind is too old, never delivered or not */
  for (uint16_t s = 1013; s < 1100; s++)
    send_recv(a, b, s, NULL, NULL);
  CHECK_EQ_INT(tern_srtp_unprotect(b, late, &ll), -EALREADY);
  CHECK_EQ_INT(tern_srtp_get_stats(b)->replays, 2);

  /* sending the same sequence number again (a NACK answer) is allowed */
  static uint8_t x1[1300], x2[1300];
  size_t l1 = big_packet(x1, 5000, 99), l2 = big_packet(x2, 5000, 99);
  CHECK_EQ_INT(tern_srtp_protect(a, x1, &l1, sizeof(x1)), 0);
  CHECK_EQ_INT(tern_srtp_protect(a, x2, &l2, sizeof(x2)), 0);
  CHECK(l1 == l2 && memcmp(x1, x2, l1) == 0);
  CHECK_EQ_INT(tern_srtp_unprotect(b, x1, &l1), 0);
  CHECK_EQ_INT(tern_srtp_unprotect(b, x2, &l2), -EALREADY);

  /* SRTCP replay */
  uint8_t rt[40] = {0x81, 201, 0, 1, 0, 0, 0, 42};
  uint8_t rc[40];
  len = 8;
  CHECK_EQ_INT(tern_srtp_protect_rtcp(a, rt, &len, sizeof(rt)), 0);
  memcpy(rc, rt, len);
  size_t rl = len;
  CHECK_EQ_INT(tern_srtp_unprotect_rtcp(b, rt, &len), 0);
  CHECK_EQ_INT(tern_srtp_unprotect_rtcp(b, rc, &rl), -EALREADY);
  CHECK_EQ_INT(tern_srtp_get_stats(b)->replays, 4);
  tern_srtp_destroy(a);
  tern_srtp_destroy(b);
}

static void test_replay_gcm(void) { replay(TERN_SRTP_AEAD_AES_128_GCM); }
static void test_replay_cm(void) { replay(TERN_SRTP_AES128_CM_SHA1_80); }

/* Garbage of every length, in exact-size heap buffers: rejected, counted,
 * and ASan sees no read outside them. */
static void test_malformed(void) {
  struct tern_srtp *a, *b;
  pair(TERN_SRTP_AEAD_AES_128_GCM, &a, &b);
  REQUIRE(a && b);
  static uint8_t good[1300];
  size_t gl = big_packet(good, 1, 2) - 1100;
  REQUIRE(tern_srtp_protect(a, good, &gl, sizeof(good)) == 0);
  for (size_t n = 0; n < gl; n++) {
    uint8_t *p = malloc(n ? n : 1);
    memcpy(p, good, n);
    size_t l = n;
    int rc = tern_srtp_unprotect(b, p, &l);
    CHECK(rc == -EINVAL || rc == -EBADMSG);
    memcpy(p, good, n);
    l = n;
    rc = tern_srtp_unprotect_rtcp(b, p, &l);
    CHECK(rc < 0);
    free(p);
  }
  /* headers whose CSRC count or extension length point past the end */
  uint8_t bad[][16] = {
      {0x8f, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0},    /* CC=15 */
      {0x90, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0xff, 0xff},
      {0x40, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0},    /* V=1 */
  };
  for (size_t i = 0; i < 3; i++) {
    uint8_t *p = malloc(64);
    memcpy(p, bad[i], 16);
    size_t l = 16;
    CHECK_EQ_INT(tern_srtp_protect(a, p, &l, 64), -EINVAL);
    l = 16;
    CHECK_EQ_INT(tern_srtp_unprotect(b, p, &l), -EINVAL);
    free(p);
  }
  uint8_t small[4] = {0x80, 0, 0, 0};
  size_t l = 4;
  CHECK_EQ_INT(tern_srtp_protect(a, small, &l, 4), -EINVAL);
  CHECK_EQ_INT(tern_srtp_protect_rtcp(a, small, &l, 4), -EINVAL);
  uint8_t r8[8] = {0x80, 200, 0, 1, 0, 0, 0, 1};
  l = 8;
  CHECK_EQ_INT(tern_srtp_protect_rtcp(a, r8, &l, 8), -ENOSPC);
  CHECK(tern_srtp_get_stats(b)->errors > 0);
  CHECK_EQ_INT(tern_srtp_get_stats(a)->errors, 6);
  tern_srtp_destroy(a);
  tern_srtp_destroy(b);
}

static void test_create_rejects_bad_keying(void) {
  struct tern_srtp_keying k;
  keying(&k, TERN_SRTP_AEAD_AES_128_GCM, GCM_KEY, B3_SALT, GCM_KEY, B3_SALT);
  CHECK(tern_srtp_create(&k) == NULL); /* 14-byte salt with GCM */
  keying(&k, TERN_SRTP_AES128_CM_SHA1_80, GCM_KEY, GCM_SALT, GCM_KEY, GCM_SALT);
  CHECK(tern_srtp_create(&k) == NULL);
  keying(&k, 2 /* SRTP_AES128_CM_SHA1_32 */, GCM_KEY, B3_SALT, GCM_KEY, B3_SALT);
  CHECK(tern_srtp_create(&k) == NULL);
  keying(&k, TERN_SRTP_AES128_CM_SHA1_80, GCM_KEY, B3_SALT, GCM_KEY, B3_SALT);
  CHECK(tern_srtp_create_ex(&k, 32) == NULL);
  CHECK(tern_srtp_create(NULL) == NULL);
  struct tern_srtp *s = tern_srtp_create_ex(&k, 64);
  CHECK(s != NULL);
  CHECK_EQ_INT(tern_srtp_profile(s), TERN_SRTP_AES128_CM_SHA1_80);
  CHECK_EQ_INT(tern_srtp_rtp_overhead(s), 10);
  CHECK_EQ_INT(tern_srtp_rtcp_overhead(s), 14);
  tern_srtp_destroy(s);
}

/* CPU time of this process: other load on the machine does not count. */
static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Five rounds of 100000 protects of one 1200-byte packet (a fresh sequence
 * number each time); prints the fastest and the median round. */
static void bench(int profile, const char *name) {
  struct tern_srtp *a, *b;
  pair(profile, &a, &b);
  if (!a || !b)
    return;
  static uint8_t in[1200], buf[1300];
  big_packet(in, 0, 1);
  const int n = 100000;
  double r[5];
  uint32_t seq = 0;
  for (int k = 0; k < 5; k++) {
    double t0 = cpu_s();
    for (int i = 0; i < n; i++, seq++) {
      size_t len = 1200;
      memcpy(buf, in, 1200);
      buf[2] = (uint8_t)(seq >> 8), buf[3] = (uint8_t)seq;
      tern_srtp_protect(a, buf, &len, sizeof(buf));
    }
    r[k] = (cpu_s() - t0) * 1e6 / n;
  }
  qsort(r, 5, sizeof(r[0]), cmp_double);
  fprintf(stderr, "bench %s: protect 1200-byte RTP: min %.2f us, median %.2f us CPU\n",
          name, r[0], r[2]);
  tern_srtp_destroy(a);
  tern_srtp_destroy(b);
  double t0 = cpu_s();
  for (int i = 0; i < 50; i++) {
    pair(profile, &a, &b);
    tern_srtp_destroy(a);
    tern_srtp_destroy(b);
  }
  fprintf(stderr, "bench %s: create+destroy one tern_srtp: %.0f us CPU\n", name,
          (cpu_s() - t0) * 1e6 / 100);
}

int main(void) {
  /* held across the whole run so libsrtp is initialised once (≈ 46 ms) */
  if (tern_srtp_library_ref() != 0)
    return 1;
  RUN(test_rfc3711_b3_kdf);
  RUN(test_rfc3711_b2_keystream);
  RUN(test_cm_reference_packets);
  RUN(test_gcm_reference_packets);
  RUN(test_model_large_packets);
  RUN(test_round_trip_gcm);
  RUN(test_round_trip_cm);
  RUN(test_tamper_gcm);
  RUN(test_tamper_cm);
  RUN(test_replay_gcm);
  RUN(test_replay_cm);
  RUN(test_malformed);
  RUN(test_create_rejects_bad_keying);
  if (getenv("TERN_SRTP_BENCH")) {
    bench(TERN_SRTP_AEAD_AES_128_GCM, "AEAD_AES_128_GCM");
    bench(TERN_SRTP_AES128_CM_SHA1_80, "AES_CM_128_HMAC_SHA1_80");
  }
  tern_srtp_library_unref();
  return TEST_RESULT();
}
