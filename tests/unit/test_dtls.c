/* test_dtls — a DTLS client and server wired back to back in memory.
 *
 * Each side's ops->send queues a copy of the datagram on a link toward the
 * other side; pump() delivers the queues (optionally dropping, duplicating
 * or reversing them) and the clock is a variable. OpenSSL 3.0 runs its
 * retransmission timer on the wall clock, so the tests that need a real
 * retransmission use a clock that follows real time (and sleep ~0.4 s);
 * the others advance a fake clock only.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/log.h"
#include "dtls/cert.h"
#include "dtls/dtls.h"
#include "test.h"

#define MAXQ 512

struct dgram {
  uint8_t *buf;
  size_t len;
};

struct side {
  const char *name;
  struct tern_dtls *d;
  struct dgram q[MAXQ]; /* in flight toward the other side */
  size_t nq;
  size_t sent, max_dgram, not_whole_records, max_records_per_dgram;
  int connected, failed, closed;
  char reason[256];
  size_t data_count, data_bytes, data_bad;
  uint8_t last[2048];
  size_t last_len;
  /* link policy for datagrams this side sends */
  bool drop_all, duplicate;
  size_t drop_first;          /* drop datagrams with index < drop_first */
  bool drop_final_flight_once; /* drop CCS/epoch-1 datagrams until connected */
  size_t final_dropped;
  bool check_small_in_order;
  size_t next_small;
};

static struct tern_cert *g_cert_a, *g_cert_b; /* made once: ~1 ms each */

/* Number of whole DTLS records in a datagram, or 0 if it is not made of
 * whole records. */
static size_t whole_records(const uint8_t *p, size_t len) {
  size_t n = 0;

  while (len) {
    size_t rl;
    if (len < 13)
      return 0;
    rl = ((size_t)p[11] << 8) | p[12];
    if (rl > len - 13)
      return 0;
    p += 13 + rl, len -= 13 + rl, n++;
  }
  return n;
}

static void push(struct side *s, const uint8_t *buf, size_t len) {
  if (s->nq >= MAXQ)
    return;
  s->q[s->nq].buf = malloc(len);
  memcpy(s->q[s->nq].buf, buf, len);
  s->q[s->nq].len = len;
  s->nq++;
}

static void on_send(void *user, const uint8_t *buf, size_t len) {
  struct side *s = user;
  size_t idx = s->sent++;
  size_t nrec = whole_records(buf, len);

  if (len > s->max_dgram)
    s->max_dgram = len;
  if (nrec == 0)
    s->not_whole_records++;
  if (nrec > s->max_records_per_dgram)
    s->max_records_per_dgram = nrec;
  if (s->drop_all || idx < s->drop_first)
    return;
  /* The server's last flight is ChangeCipherSpec + Finished (epoch 1), one
   * datagram at the default MTU: drop its first transmission only. */
  if (s->drop_final_flight_once && s->final_dropped < 1 && buf[0] == 20) {
    s->final_dropped++;
    return;
  }
  push(s, buf, len);
  if (s->duplicate)
    push(s, buf, len);
}

static void on_connected(void *user) { ((struct side *)user)->connected++; }

static void on_failed(void *user, const char *reason) {
  struct side *s = user;
  s->failed++;
  snprintf(s->reason, sizeof(s->reason), "%s", reason);
}

static void on_closed(void *user) { ((struct side *)user)->closed++; }

static void on_data(void *user, const uint8_t *buf, size_t len) {
  struct side *s = user;
  s->data_count++;
  s->data_bytes += len;
  if (len <= sizeof(s->last)) {
    memcpy(s->last, buf, len);
    s->last_len = len;
  }
  /* small messages carry their index: in-memory links keep order */
  if (s->check_small_in_order && len == 8) {
    uint64_t v;
    memcpy(&v, buf, 8);
    if (v != s->next_small)
      s->data_bad++;
    s->next_small = v + 1;
  }
}

static const struct tern_dtls_ops OPS = {
    .send = on_send,
    .connected = on_connected,
    .failed = on_failed,
    .closed = on_closed,
    .data = on_data,
};

static uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void free_queue(struct side *s) {
  for (size_t i = 0; i < s->nq; i++)
    free(s->q[i].buf);
  s->nq = 0;
}

/* Delivers what `from` sent to `to`, newest first if reverse. */
static size_t deliver(struct side *from, struct side *to, bool reverse, uint64_t now) {
  struct dgram q[MAXQ];
  size_t n = from->nq;

  memcpy(q, from->q, n * sizeof(q[0]));
  from->nq = 0;
  for (size_t i = 0; i < n; i++) {
    struct dgram *g = &q[reverse ? n - 1 - i : i];
    tern_dtls_input(to->d, g->buf, g->len, now);
  }
  for (size_t i = 0; i < n; i++)
    free(q[i].buf);
  return n;
}

static void pump(struct side *a, struct side *b, bool reverse, uint64_t now) {
  for (int i = 0; i < 1000; i++)
    if (deliver(a, b, reverse, now) + deliver(b, a, reverse, now) == 0)
      return;
}

static bool settled(const struct side *a, const struct side *b) {
  bool a_done = a->connected || a->failed || a->closed;
  bool b_done = b->connected || b->failed || b->closed;
  return (a_done && b_done) || a->failed || b->failed;
}

/* Runs both sides until each is connected or one failed, or `limit` ms of
 * the clock passed. With real_time the clock follows CLOCK_MONOTONIC and
 * waiting for a timer sleeps. Returns the clock at the end. */
static uint64_t run(struct side *a, struct side *b, uint64_t now, bool real_time,
                    bool reverse, uint64_t limit) {
  uint64_t base = mono_ms() - now, end = now + limit;

  for (int iter = 0; iter < 10000; iter++) {
    uint64_t t;

    pump(a, b, reverse, now);
    if (settled(a, b))
      break;
    t = tern_dtls_next_timeout(a->d);
    if (tern_dtls_next_timeout(b->d) < t)
      t = tern_dtls_next_timeout(b->d);
    if (t == UINT64_MAX || t > end)
      break;
    if (real_time) {
      while (mono_ms() - base < t) {
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
      }
      now = mono_ms() - base;
    } else if (t > now) {
      now = t;
    }
    tern_dtls_handle_timeout(a->d, now);
    tern_dtls_handle_timeout(b->d, now);
  }
  pump(a, b, reverse, now);
  return now;
}

struct pair {
  struct tern_dtls_ctx *cctx, *sctx;
  struct side c, s;
};

/* Client uses cert A, server cert B; each checks the other's sha-256
 * fingerprint unless the caller passes its own. */
static void pair_init(struct pair *p, const struct tern_dtls_ctx_opts *copts,
                      const char *c_fp_alg, const char *c_fp, const char *s_fp_alg,
                      const char *s_fp) {
  memset(p, 0, sizeof(*p));
  p->cctx = tern_dtls_ctx_create_ex(g_cert_a, copts);
  p->sctx = tern_dtls_ctx_create_ex(g_cert_b, copts);
  p->c.name = "client";
  p->s.name = "server";
  p->c.d = tern_dtls_create(p->cctx, TERN_DTLS_ROLE_CLIENT, c_fp_alg ? c_fp_alg : "sha-256",
                            c_fp ? c_fp : tern_cert_fingerprint(g_cert_b), &OPS, &p->c,
                            "test-client");
  p->s.d = tern_dtls_create(p->sctx, TERN_DTLS_ROLE_SERVER, s_fp_alg ? s_fp_alg : "sha-256",
                            s_fp ? s_fp : tern_cert_fingerprint(g_cert_a), &OPS, &p->s,
                            "test-server");
}

static void pair_free(struct pair *p) {
  free_queue(&p->c);
  free_queue(&p->s);
  tern_dtls_destroy(p->c.d);
  tern_dtls_destroy(p->s.d);
  tern_dtls_ctx_destroy(p->cctx);
  tern_dtls_ctx_destroy(p->sctx);
}

static uint64_t pair_connect(struct pair *p, bool real_time, uint64_t limit) {
  tern_dtls_start(p->s.d, 1000);
  tern_dtls_start(p->c.d, 1000);
  return run(&p->c, &p->s, 1000, real_time, false, limit);
}

/* ---------------------------------------------------------------- cert -- */

static void test_cert(void) {
  struct tern_cert *c = g_cert_a;
  const char *fp = tern_cert_fingerprint(c);
  unsigned char dig[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  char hex[4], buf[TERN_CERT_FP_MAX];
  X509 *x = tern_cert_x509(c);
  X509_NAME *name;
  char cn[32] = "";

  REQUIRE(fp != NULL);
  CHECK_EQ_INT(strlen(fp), 95);
  REQUIRE(X509_digest(x, EVP_sha256(), dig, &n) == 1 && n == 32);
  for (unsigned i = 0; i < n; i++) {
    snprintf(hex, sizeof(hex), "%02X", dig[i]);
    CHECK(fp[i * 3] == hex[0] && fp[i * 3 + 1] == hex[1]);
    if (i + 1 < n)
      CHECK(fp[i * 3 + 2] == ':');
  }
  CHECK(strcmp(tern_cert_fingerprint(g_cert_a), tern_cert_fingerprint(g_cert_b)) != 0);
  CHECK(ASN1_INTEGER_cmp(X509_get_serialNumber(x),
                         X509_get_serialNumber(tern_cert_x509(g_cert_b))) != 0);

  /* CN, validity window, P-256 key */
  name = X509_get_subject_name(x);
  X509_NAME_get_text_by_NID(name, NID_commonName, cn, sizeof(cn));
  CHECK_EQ_STR(cn, "tern");
  CHECK(X509_cmp_current_time(X509_get0_notBefore(x)) < 0);
  CHECK(X509_cmp_current_time(X509_get0_notAfter(x)) > 0);
  CHECK(X509_cmp_time(X509_get0_notAfter(x), &(time_t){time(NULL) + 29 * 86400}) > 0);
  CHECK(X509_cmp_time(X509_get0_notAfter(x), &(time_t){time(NULL) + 31 * 86400}) < 0);
  CHECK(EVP_PKEY_is_a(tern_cert_pkey(c), "EC"));
  CHECK_EQ_INT(EVP_PKEY_get_bits(tern_cert_pkey(c)), 256);
  CHECK(X509_verify(x, tern_cert_pkey(c)) == 1);

  /* the helper for every supported hash, and its errors */
  CHECK_EQ_INT(tern_cert_fingerprint_x509(x, "sha-256", buf, sizeof(buf)), 95);
  CHECK_EQ_STR(buf, fp);
  CHECK_EQ_INT(tern_cert_fingerprint_x509(x, "SHA-256", buf, sizeof(buf)), 95);
  CHECK_EQ_INT(tern_cert_fingerprint_x509(x, "sha-1", buf, sizeof(buf)), 59);
  CHECK_EQ_INT(tern_cert_fingerprint_x509(x, "sha-384", buf, sizeof(buf)), 143);
  CHECK_EQ_INT(tern_cert_fingerprint_x509(x, "sha-512", buf, sizeof(buf)), 191);
  CHECK_EQ_INT(tern_cert_fingerprint_x509(x, "md5", buf, sizeof(buf)), -EINVAL);
  CHECK_EQ_INT(tern_cert_fingerprint_x509(x, "sha-256", buf, 95), -ENOSPC);
  CHECK_EQ_INT(tern_cert_fingerprint_x509(NULL, "sha-256", buf, sizeof(buf)), -EINVAL);
}

/* ----------------------------------------------------------- handshake -- */

static void test_handshake_and_keying(void) {
  struct pair p;
  struct tern_srtp_keying ck, sk;

  pair_init(&p, NULL, NULL, NULL, NULL, NULL);
  REQUIRE(p.c.d && p.s.d);
  CHECK_EQ_INT(tern_dtls_state(p.c.d), TERN_DTLS_NEW);
  CHECK_EQ_INT(tern_dtls_srtp_keying(p.c.d, &ck), -ENOTCONN);
  pair_connect(&p, false, 5000);
  CHECK_EQ_INT(p.c.connected, 1);
  CHECK_EQ_INT(p.s.connected, 1);
  CHECK_EQ_INT(p.c.failed + p.s.failed, 0);
  CHECK_EQ_INT(tern_dtls_state(p.c.d), TERN_DTLS_CONNECTED);
  CHECK_EQ_INT(tern_dtls_state(p.s.d), TERN_DTLS_CONNECTED);
  /* every datagram is whole records and within the 1200-byte MTU */
  CHECK(p.c.max_dgram > 0 && p.c.max_dgram <= 1200);
  CHECK(p.s.max_dgram > 0 && p.s.max_dgram <= 1200);
  CHECK_EQ_INT(p.c.not_whole_records + p.s.not_whole_records, 0);
  /* OpenSSL packs a flight's records into a write up to the MTU: the
   * server's 5-message flight needs only a datagram or two */
  CHECK(p.s.max_records_per_dgram >= 2);
  CHECK(p.s.sent <= 4);
  CHECK(tern_dtls_get_stats(p.c.d)->datagrams_out == p.c.sent);
  CHECK_EQ_INT(tern_dtls_get_stats(p.c.d)->bad_records, 0);

  REQUIRE(tern_dtls_srtp_keying(p.c.d, &ck) == 0);
  REQUIRE(tern_dtls_srtp_keying(p.s.d, &sk) == 0);
  CHECK_EQ_INT(ck.profile, TERN_SRTP_AEAD_AES_128_GCM); /* GCM preferred */
  CHECK_EQ_INT(sk.profile, TERN_SRTP_AEAD_AES_128_GCM);
  CHECK_EQ_INT(ck.key_len, 16);
  CHECK_EQ_INT(ck.salt_len, 12);
  CHECK(memcmp(ck.local_key, sk.remote_key, 16) == 0);
  CHECK(memcmp(ck.remote_key, sk.local_key, 16) == 0);
  CHECK(memcmp(ck.local_salt, sk.remote_salt, 12) == 0);
  CHECK(memcmp(ck.remote_salt, sk.local_salt, 12) == 0);
  CHECK(memcmp(ck.local_key, ck.remote_key, 16) != 0);
  pair_free(&p);
}

static void test_cm_fallback(void) {
  struct tern_dtls_ctx_opts o = {.srtp_profiles = "SRTP_AES128_CM_SHA1_80"};
  struct pair p;
  struct tern_srtp_keying ck, sk;

  /* both ctx offer only CM here (pair_init uses one opts for both) */
  pair_init(&p, &o, NULL, NULL, NULL, NULL);
  REQUIRE(p.c.d && p.s.d);
  pair_connect(&p, false, 5000);
  REQUIRE(p.c.connected == 1 && p.s.connected == 1);
  REQUIRE(tern_dtls_srtp_keying(p.c.d, &ck) == 0);
  REQUIRE(tern_dtls_srtp_keying(p.s.d, &sk) == 0);
  CHECK_EQ_INT(ck.profile, TERN_SRTP_AES128_CM_SHA1_80);
  CHECK_EQ_INT(ck.key_len, 16);
  CHECK_EQ_INT(ck.salt_len, 14);
  CHECK(memcmp(ck.local_key, sk.remote_key, 16) == 0);
  CHECK(memcmp(ck.local_salt, sk.remote_salt, 14) == 0);
  CHECK(memcmp(sk.local_salt, ck.remote_salt, 14) == 0);
  pair_free(&p);
}

static void test_app_data(void) {
  struct pair p;
  uint8_t big[1100];

  pair_init(&p, NULL, NULL, NULL, NULL, NULL);
  REQUIRE(p.c.d && p.s.d);
  CHECK_EQ_INT(tern_dtls_send(p.c.d, (const uint8_t *)"x", 1), -ENOTCONN);
  pair_connect(&p, false, 5000);
  REQUIRE(p.c.connected && p.s.connected);
  CHECK(tern_dtls_max_payload(p.c.d) >= 1100 && tern_dtls_max_payload(p.c.d) <= 1200);

  for (size_t i = 0; i < sizeof(big); i++)
    big[i] = (uint8_t)(i * 7 + 3);
  CHECK_EQ_INT(tern_dtls_send(p.c.d, big, sizeof(big)), 0);
  CHECK_EQ_INT(tern_dtls_send(p.s.d, big, sizeof(big)), 0);
  pump(&p.c, &p.s, false, 2000);
  CHECK_EQ_INT(p.s.data_count, 1);
  CHECK_EQ_INT(p.c.data_count, 1);
  CHECK(p.s.last_len == sizeof(big) && memcmp(p.s.last, big, sizeof(big)) == 0);
  CHECK(p.c.last_len == sizeof(big) && memcmp(p.c.last, big, sizeof(big)) == 0);
  CHECK(p.c.max_dgram <= 1200);

  p.s.check_small_in_order = p.c.check_small_in_order = true;
  for (uint64_t i = 0; i < 300; i++) {
    CHECK_EQ_INT(tern_dtls_send(p.c.d, (const uint8_t *)&i, 8), 0);
    CHECK_EQ_INT(tern_dtls_send(p.s.d, (const uint8_t *)&i, 8), 0);
    if (i % 50 == 49)
      pump(&p.c, &p.s, false, 2000);
  }
  pump(&p.c, &p.s, false, 2000);
  CHECK_EQ_INT(p.s.data_count, 301);
  CHECK_EQ_INT(p.c.data_count, 301);
  CHECK_EQ_INT(p.s.next_small, 300);
  CHECK_EQ_INT(p.s.data_bad + p.c.data_bad, 0);
  CHECK_EQ_INT(tern_dtls_get_stats(p.s.d)->app_in, 301);
  CHECK_EQ_INT(tern_dtls_send(p.c.d, big, 20000), -EMSGSIZE);
  pair_free(&p);
}

static void check_fp_failure(struct side *verifier, struct side *other) {
  CHECK_EQ_INT(verifier->failed, 1);
  CHECK(strstr(verifier->reason, "fingerprint") != NULL);
  CHECK_EQ_INT(verifier->connected, 0);
  CHECK_EQ_INT(other->connected, 0);
  CHECK_EQ_INT(other->failed, 1); /* the bad_certificate alert */
  CHECK_EQ_INT(tern_dtls_state(verifier->d), TERN_DTLS_FAILED);
  CHECK_EQ_INT(tern_dtls_send(verifier->d, (const uint8_t *)"x", 1), -ENOTCONN);
  CHECK_EQ_INT(tern_dtls_send(other->d, (const uint8_t *)"x", 1), -ENOTCONN);
  CHECK_EQ_INT(verifier->data_count + other->data_count, 0);
  CHECK_EQ_INT(tern_dtls_next_timeout(verifier->d), UINT64_MAX);
}

static void test_wrong_fingerprint(void) {
  struct pair p;
  /* the client expects its own cert instead of the server's */
  pair_init(&p, NULL, NULL, tern_cert_fingerprint(g_cert_a), NULL, NULL);
  REQUIRE(p.c.d && p.s.d);
  pair_connect(&p, false, 30000);
  check_fp_failure(&p.c, &p.s);
  pair_free(&p);

  /* the server expects the wrong client cert */
  pair_init(&p, NULL, NULL, NULL, NULL, tern_cert_fingerprint(g_cert_b));
  REQUIRE(p.c.d && p.s.d);
  pair_connect(&p, false, 30000);
  check_fp_failure(&p.s, &p.c);
  pair_free(&p);
}

static void lower(char *dst, const char *src) {
  for (; *src; src++)
    *dst++ = (char)(*src >= 'A' && *src <= 'F' ? *src + 32 : *src);
  *dst = '\0';
}

static void test_fingerprint_forms(void) {
  static const char *algs[] = {"sha-1", "sha-384", "SHA-512", "sha-256"};
  char fp_b[TERN_CERT_FP_MAX], fp_a[TERN_CERT_FP_MAX], lc[TERN_CERT_FP_MAX];
  struct tern_dtls_ctx *ctx = tern_dtls_ctx_create(g_cert_a);
  const char *good = tern_cert_fingerprint(g_cert_b);
  char bad[TERN_CERT_FP_MAX];

  for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
    struct pair p;
    REQUIRE(tern_cert_fingerprint_x509(tern_cert_x509(g_cert_b), algs[i], fp_b, sizeof(fp_b)) > 0);
    REQUIRE(tern_cert_fingerprint_x509(tern_cert_x509(g_cert_a), algs[i], fp_a, sizeof(fp_a)) > 0);
    lower(lc, fp_b); /* hex case must not matter */
    pair_init(&p, NULL, algs[i], lc, algs[i], fp_a);
    REQUIRE(p.c.d && p.s.d);
    pair_connect(&p, false, 5000);
    CHECK(p.c.connected == 1 && p.s.connected == 1);
    pair_free(&p);
  }

  /* malformed fingerprints are refused up front */
  REQUIRE(ctx != NULL);
  CHECK(tern_dtls_create(ctx, TERN_DTLS_ROLE_CLIENT, "md5", good, &OPS, NULL, NULL) == NULL);
  CHECK(tern_dtls_create(ctx, TERN_DTLS_ROLE_CLIENT, "sha-1", good, &OPS, NULL, NULL) == NULL);
  snprintf(bad, sizeof(bad), "%s", good);
  bad[10] = 'G';
  CHECK(tern_dtls_create(ctx, TERN_DTLS_ROLE_CLIENT, "sha-256", bad, &OPS, NULL, NULL) == NULL);
  snprintf(bad, sizeof(bad), "%s", good);
  bad[2] = '-';
  CHECK(tern_dtls_create(ctx, TERN_DTLS_ROLE_CLIENT, "sha-256", bad, &OPS, NULL, NULL) == NULL);
  bad[94] = '\0';
  CHECK(tern_dtls_create(ctx, TERN_DTLS_ROLE_CLIENT, "sha-256", bad, &OPS, NULL, NULL) == NULL);

  /* known later: set before start; without one, start fails */
  {
    struct side s = {.name = "late"};
    struct tern_dtls *d = tern_dtls_create(ctx, TERN_DTLS_ROLE_SERVER, NULL, NULL, &OPS, &s, NULL);
    REQUIRE(d != NULL);
    CHECK_EQ_INT(tern_dtls_set_remote_fingerprint(d, "sha-256", bad), -EINVAL);
    CHECK_EQ_INT(tern_dtls_set_remote_fingerprint(d, "sha-256", good), 0);
    tern_dtls_destroy(d);
    d = tern_dtls_create(ctx, TERN_DTLS_ROLE_CLIENT, NULL, NULL, &OPS, &s, NULL);
    REQUIRE(d != NULL);
    tern_dtls_start(d, 0);
    CHECK_EQ_INT(s.failed, 1);
    CHECK(strstr(s.reason, "fingerprint") != NULL);
    CHECK_EQ_INT(s.sent, 0);
    CHECK_EQ_INT(tern_dtls_set_remote_fingerprint(d, "sha-256", good), -EBUSY);
    tern_dtls_destroy(d);
    free_queue(&s);
  }
  tern_dtls_ctx_destroy(ctx);
}

/* -------------------------------------------------------- loss, timers -- */

static void test_lost_first_flights(void) {
  struct pair p;
  uint64_t end;

  /* The ClientHello is lost: the client's timer (400 ms) resends it. */
  pair_init(&p, NULL, NULL, NULL, NULL, NULL);
  REQUIRE(p.c.d && p.s.d);
  p.c.drop_first = 1;
  end = pair_connect(&p, true, 5000);
  CHECK(p.c.connected == 1 && p.s.connected == 1);
  CHECK(tern_dtls_get_stats(p.c.d)->retransmits >= 1);
  CHECK(end - 1000 >= 380 && end - 1000 < 2000);
  pair_free(&p);

  /* The first datagram of the server's flight is lost. */
  pair_init(&p, NULL, NULL, NULL, NULL, NULL);
  REQUIRE(p.c.d && p.s.d);
  p.s.drop_first = 1;
  pair_connect(&p, true, 5000);
  CHECK(p.c.connected == 1 && p.s.connected == 1);
  CHECK(tern_dtls_get_stats(p.s.d)->retransmits + tern_dtls_get_stats(p.c.d)->retransmits >= 1);
  pair_free(&p);
}

/* The server's ChangeCipherSpec + Finished is lost after the server already
 * considers itself connected: the client resends its flight on its timer
 * and the server must answer it with its last flight again. */
static void test_lost_final_flight(void) {
  struct pair p;

  pair_init(&p, NULL, NULL, NULL, NULL, NULL);
  REQUIRE(p.c.d && p.s.d);
  p.s.drop_final_flight_once = true;
  pair_connect(&p, true, 5000);
  CHECK_EQ_INT(p.s.final_dropped, 1);
  CHECK_EQ_INT(p.s.connected, 1);
  CHECK_EQ_INT(p.c.connected, 1);
  CHECK(tern_dtls_get_stats(p.c.d)->retransmits >= 1);
  pair_free(&p);
}

static void test_all_dropped_times_out(void) {
  struct pair p;
  uint64_t end;

  /* Fake clock only: the owner-clock deadline bounds the handshake even
   * when OpenSSL's wall-clock timer has not moved. */
  pair_init(&p, NULL, NULL, NULL, NULL, NULL);
  REQUIRE(p.c.d && p.s.d);
  p.c.drop_all = p.s.drop_all = true;
  end = pair_connect(&p, false, 120000);
  CHECK_EQ_INT(p.c.failed, 1);
  CHECK(strstr(p.c.reason, "timeout") != NULL);
  CHECK(end - 1000 <= 20000);
  CHECK_EQ_INT(p.c.connected + p.s.connected, 0);
  CHECK_EQ_INT(tern_dtls_next_timeout(p.c.d), UINT64_MAX);
  /* the server (which never heard anything) gives up at its deadline too */
  tern_dtls_handle_timeout(p.s.d, 1000 + 20000);
  CHECK_EQ_INT(p.s.failed, 1);
  pair_free(&p);

  /* Real clock, short timers: gives up after max_retransmits resends. */
  {
    struct tern_dtls_ctx_opts o = {.initial_rto_ms = 20, .max_rto_ms = 40, .max_retransmits = 3};
    pair_init(&p, &o, NULL, NULL, NULL, NULL);
    REQUIRE(p.c.d && p.s.d);
    p.c.drop_all = p.s.drop_all = true;
    end = pair_connect(&p, true, 5000);
    CHECK_EQ_INT(p.c.failed, 1);
    CHECK(strstr(p.c.reason, "timeout") != NULL);
    CHECK_EQ_INT(p.c.sent, 4); /* ClientHello + 3 retransmissions */
    CHECK_EQ_INT(tern_dtls_get_stats(p.c.d)->retransmits, 3);
    CHECK(end - 1000 < 2000);
    pair_free(&p);
  }
}

/* ---------------------------------------------------------- robustness -- */

static void test_duplicates_and_reordering(void) {
  struct pair p;

  pair_init(&p, NULL, NULL, NULL, NULL, NULL);
  REQUIRE(p.c.d && p.s.d);
  p.c.duplicate = p.s.duplicate = true;
  /* a small MTU makes every flight several datagrams, then reversed */
  tern_dtls_set_mtu(p.c.d, 256);
  tern_dtls_set_mtu(p.s.d, 256);
  tern_dtls_start(p.s.d, 1000);
  tern_dtls_start(p.c.d, 1000);
  run(&p.c, &p.s, 1000, true, true, 5000);
  CHECK(p.c.connected == 1 && p.s.connected == 1);
  CHECK_EQ_INT(p.c.failed + p.s.failed, 0);
  CHECK(p.s.sent >= 8);
  CHECK_EQ_INT(tern_dtls_send(p.c.d, (const uint8_t *)"hello", 5), 0);
  pump(&p.c, &p.s, true, 2000);
  CHECK_EQ_INT(p.s.data_count, 1); /* the duplicate is a replay: dropped */
  CHECK(p.s.last_len == 5 && memcmp(p.s.last, "hello", 5) == 0);
  pair_free(&p);
}

static void fill_random(uint8_t *p, size_t n, unsigned *seed) {
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t)(rand_r(seed) >> 7);
}

/* A well-framed record of the given type/epoch with a random body: passes
 * our framing check and must be discarded by OpenSSL (bad MAC/epoch). */
static size_t fake_record(uint8_t *p, uint8_t type, uint16_t epoch, size_t body, unsigned *seed) {
  p[0] = type, p[1] = 0xfe, p[2] = 0xfd, p[3] = (uint8_t)(epoch >> 8), p[4] = (uint8_t)epoch;
  memset(p + 5, 0, 6);
  p[10] = (uint8_t)(rand_r(seed) & 0x7f);
  p[11] = (uint8_t)(body >> 8), p[12] = (uint8_t)body;
  fill_random(p + 13, body, seed);
  return 13 + body;
}

static void inject_garbage(struct tern_dtls *d, uint64_t now, unsigned *seed, size_t *bad) {
  uint8_t g[1500];
  size_t n;

  fill_random(g, sizeof(g), seed);
  g[0] = 0x40; /* outside the DTLS range */
  tern_dtls_input(d, g, sizeof(g), now), (*bad)++;
  tern_dtls_input(d, g, 0, now), (*bad)++;
  g[0] = 22, g[1] = 0xfe, g[2] = 0xfd;
  tern_dtls_input(d, g, 12, now), (*bad)++;          /* short header */
  g[11] = 0x10, g[12] = 0x00;                        /* length 4096 > datagram */
  tern_dtls_input(d, g, 200, now), (*bad)++;
  n = fake_record(g, 23, 1, 64, seed);
  g[n] = 23;                                         /* trailing partial record */
  tern_dtls_input(d, g, n + 5, now), (*bad)++;
  tern_dtls_input(d, g, n, now);                     /* framed: OpenSSL drops it */
  n = fake_record(g, 23, 9, 100, seed);
  tern_dtls_input(d, g, n, now);
}

static void test_garbage(void) {
  struct pair p;
  unsigned seed = 1234;
  size_t bad_c = 0, bad_s = 0;

  pair_init(&p, NULL, NULL, NULL, NULL, NULL);
  REQUIRE(p.c.d && p.s.d);
  inject_garbage(p.s.d, 1000, &seed, &bad_s); /* before start */
  tern_dtls_start(p.s.d, 1000);
  tern_dtls_start(p.c.d, 1000);
  for (int i = 0; i < 4 && !(p.c.connected && p.s.connected); i++) {
    inject_garbage(p.c.d, 1000, &seed, &bad_c);
    inject_garbage(p.s.d, 1000, &seed, &bad_s);
    deliver(&p.c, &p.s, false, 1000);
    deliver(&p.s, &p.c, false, 1000);
  }
  run(&p.c, &p.s, 1000, false, false, 5000);
  CHECK(p.c.connected == 1 && p.s.connected == 1);
  CHECK_EQ_INT(p.c.failed + p.s.failed, 0);

  inject_garbage(p.c.d, 2000, &seed, &bad_c);
  inject_garbage(p.s.d, 2000, &seed, &bad_s);
  CHECK_EQ_INT(tern_dtls_state(p.c.d), TERN_DTLS_CONNECTED);
  CHECK_EQ_INT(tern_dtls_state(p.s.d), TERN_DTLS_CONNECTED);
  CHECK_EQ_INT(tern_dtls_get_stats(p.c.d)->bad_records, bad_c);
  CHECK_EQ_INT(tern_dtls_get_stats(p.s.d)->bad_records, bad_s);
  CHECK_EQ_INT(p.c.data_count + p.s.data_count, 0);
  CHECK_EQ_INT(tern_dtls_send(p.s.d, (const uint8_t *)"still", 5), 0);
  pump(&p.c, &p.s, false, 2000);
  CHECK(p.c.data_count == 1 && p.c.last_len == 5 && memcmp(p.c.last, "still", 5) == 0);
  pair_free(&p);
}

/* Mutated copies of real handshake datagrams, fed to fresh endpoints:
 * whatever happens, no crash, no leak (ASan), and no "connected". */
static void test_mutated_handshakes(void) {
  struct pair p;
  struct dgram hello = {0}, flight[16];
  size_t nflight = 0;
  unsigned seed = 99;
  int connected = 0;

  pair_init(&p, NULL, NULL, NULL, NULL, NULL);
  REQUIRE(p.c.d && p.s.d);
  tern_dtls_start(p.s.d, 1000);
  tern_dtls_start(p.c.d, 1000);
  REQUIRE(p.c.nq == 1);
  hello = p.c.q[0];
  p.c.nq = 0;
  tern_dtls_input(p.s.d, hello.buf, hello.len, 1000);
  REQUIRE(p.s.nq > 0 && p.s.nq <= 16);
  memcpy(flight, p.s.q, p.s.nq * sizeof(flight[0]));
  nflight = p.s.nq;
  p.s.nq = 0;
  pair_free(&p);

  for (int it = 0; it < 300; it++) {
    pair_init(&p, NULL, NULL, NULL, NULL, NULL);
    REQUIRE(p.c.d && p.s.d);
    tern_dtls_start(p.s.d, 1000);
    tern_dtls_start(p.c.d, 1000);
    free_queue(&p.c);
    {
      uint8_t m[2048];
      size_t n = hello.len;
      memcpy(m, hello.buf, n);
      for (int k = 0; k < 1 + it % 4; k++)
        m[13 + (size_t)rand_r(&seed) % (n - 13)] ^= (uint8_t)(1 + rand_r(&seed) % 255);
      tern_dtls_input(p.s.d, m, n, 1000);
      for (size_t f = 0; f < nflight; f++) {
        n = flight[f].len;
        memcpy(m, flight[f].buf, n);
        if (rand_r(&seed) % 2)
          m[(size_t)rand_r(&seed) % n] ^= (uint8_t)(1 + rand_r(&seed) % 255);
        tern_dtls_input(p.c.d, m, n, 1000);
      }
    }
    connected += p.c.connected + p.s.connected;
    pair_free(&p);
  }
  CHECK_EQ_INT(connected, 0);
  free(hello.buf);
  for (size_t f = 0; f < nflight; f++)
    free(flight[f].buf);
}

static void test_early_records(void) {
  struct pair p;
  uint8_t junk[64];

  pair_init(&p, NULL, NULL, NULL, NULL, NULL);
  REQUIRE(p.c.d && p.s.d);
  tern_dtls_start(p.c.d, 1000); /* the server has not started yet */
  pump(&p.c, &p.s, false, 1000);
  CHECK_EQ_INT(p.s.sent, 0);
  CHECK_EQ_INT(tern_dtls_state(p.s.d), TERN_DTLS_NEW);
  tern_dtls_start(p.s.d, 1010);
  CHECK(p.s.sent > 0); /* answered the kept ClientHello at once */
  run(&p.c, &p.s, 1010, false, false, 5000);
  CHECK(p.c.connected == 1 && p.s.connected == 1);
  CHECK_EQ_INT(tern_dtls_get_stats(p.c.d)->retransmits, 0);
  pair_free(&p);

  /* only a few are kept */
  pair_init(&p, NULL, NULL, NULL, NULL, NULL);
  REQUIRE(p.s.d);
  memset(junk, 0, sizeof(junk));
  fake_record(junk, 22, 0, 40, &(unsigned){1});
  for (int i = 0; i < 6; i++)
    tern_dtls_input(p.s.d, junk, 53, 1000);
  CHECK_EQ_INT(tern_dtls_get_stats(p.s.d)->dropped, 2);
  pair_free(&p);
}

static void test_small_mtu(void) {
  struct pair p;
  size_t default_count;

  pair_init(&p, NULL, NULL, NULL, NULL, NULL);
  REQUIRE(p.c.d && p.s.d);
  pair_connect(&p, false, 5000);
  default_count = p.s.sent;
  pair_free(&p);

  pair_init(&p, NULL, NULL, NULL, NULL, NULL);
  REQUIRE(p.c.d && p.s.d);
  CHECK_EQ_INT(tern_dtls_set_mtu(p.c.d, 100), -EINVAL);
  CHECK_EQ_INT(tern_dtls_set_mtu(p.c.d, 256), 0);
  CHECK_EQ_INT(tern_dtls_set_mtu(p.s.d, 256), 0);
  pair_connect(&p, false, 5000);
  CHECK(p.c.connected == 1 && p.s.connected == 1);
  CHECK(p.c.max_dgram <= 256 && p.s.max_dgram <= 256);
  CHECK(p.s.sent > default_count); /* the certificate flight was fragmented */
  CHECK_EQ_INT(p.c.not_whole_records + p.s.not_whole_records, 0);
  CHECK_EQ_INT(tern_dtls_set_mtu(p.c.d, 1200), -EBUSY);
  CHECK(tern_dtls_max_payload(p.c.d) < 256);
  pair_free(&p);
}

static void test_close_notify(void) {
  struct pair p;
  size_t sent;

  pair_init(&p, NULL, NULL, NULL, NULL, NULL);
  REQUIRE(p.c.d && p.s.d);
  pair_connect(&p, false, 5000);
  REQUIRE(p.c.connected && p.s.connected);
  tern_dtls_close(p.c.d);
  sent = p.c.sent;
  tern_dtls_close(p.c.d); /* once only */
  CHECK_EQ_INT(p.c.sent, sent);
  CHECK_EQ_INT(tern_dtls_state(p.c.d), TERN_DTLS_CLOSED);
  CHECK_EQ_INT(p.c.closed, 0); /* no callback for our own close */
  pump(&p.c, &p.s, false, 2000);
  CHECK_EQ_INT(p.s.closed, 1);
  CHECK_EQ_INT(p.s.failed, 0);
  CHECK_EQ_INT(tern_dtls_state(p.s.d), TERN_DTLS_CLOSED);
  CHECK_EQ_INT(tern_dtls_send(p.s.d, (const uint8_t *)"x", 1), -ENOTCONN);
  CHECK_EQ_INT(tern_dtls_send(p.c.d, (const uint8_t *)"x", 1), -ENOTCONN);
  CHECK_EQ_INT(tern_dtls_next_timeout(p.s.d), UINT64_MAX);
  pair_free(&p);
}

/* ------------------------------------------------------------ measure -- */

static double cpu_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void test_handshake_cpu(void) {
  enum { N = 40, NCERT = 20 };
  struct tern_dtls_ctx *cctx = tern_dtls_ctx_create(g_cert_a);
  struct tern_dtls_ctx *sctx = tern_dtls_ctx_create(g_cert_b);
  double t0, hs, gen;
  int ok = 0;

  REQUIRE(cctx && sctx);
  t0 = cpu_ms();
  for (int i = 0; i < N; i++) {
    struct side c = {.name = "c"}, s = {.name = "s"};
    c.d = tern_dtls_create(cctx, TERN_DTLS_ROLE_CLIENT, "sha-256",
                           tern_cert_fingerprint(g_cert_b), &OPS, &c, NULL);
    s.d = tern_dtls_create(sctx, TERN_DTLS_ROLE_SERVER, "sha-256",
                           tern_cert_fingerprint(g_cert_a), &OPS, &s, NULL);
    tern_dtls_start(s.d, 0);
    tern_dtls_start(c.d, 0);
    pump(&c, &s, false, 0);
    ok += c.connected && s.connected;
    tern_dtls_destroy(c.d);
    tern_dtls_destroy(s.d);
  }
  hs = (cpu_ms() - t0) / N;
  t0 = cpu_ms();
  for (int i = 0; i < NCERT; i++)
    tern_cert_free(tern_cert_generate());
  gen = (cpu_ms() - t0) / NCERT;
  fprintf(stderr, "measure: DTLS handshake, both ends, CPU %.2f ms; cert generate %.2f ms\n",
          hs, gen);
  CHECK_EQ_INT(ok, N);
  CHECK(hs < 100.0);
  tern_dtls_ctx_destroy(cctx);
  tern_dtls_ctx_destroy(sctx);
}

int main(void) {
  tern_log_set_level(TERN_LOG_ERROR);
  g_cert_a = tern_cert_generate();
  g_cert_b = tern_cert_generate();
  if (!g_cert_a || !g_cert_b) {
    fprintf(stderr, "cert generation failed\n");
    return 1;
  }
  RUN(test_cert);
  RUN(test_handshake_and_keying);
  RUN(test_cm_fallback);
  RUN(test_app_data);
  RUN(test_wrong_fingerprint);
  RUN(test_fingerprint_forms);
  RUN(test_lost_first_flights);
  RUN(test_lost_final_flight);
  RUN(test_all_dropped_times_out);
  RUN(test_duplicates_and_reordering);
  RUN(test_garbage);
  RUN(test_mutated_handshakes);
  RUN(test_early_records);
  RUN(test_small_mtu);
  RUN(test_close_notify);
  RUN(test_handshake_cpu);
  tern_cert_free(g_cert_a);
  tern_cert_free(g_cert_b);
  return TEST_RESULT();
}
