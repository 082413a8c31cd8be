#include "dtls/dtls.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>

#include "core/log.h"

#define EARLY_MAX 4
#define RX_MAX 16384 /* largest DTLS plaintext record (RFC 6347 §4.1) */
#define DTLS_HDR 13  /* type(1) version(2) epoch(2) seq(6) length(2) */

/* Browser-compatible ECDHE suites, AEAD first. Our own key is ECDSA, so as a
 * server we pick ECDSA suites; the RSA ones matter when we are the client of
 * a peer with an RSA certificate. */
static const char CIPHERS[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:"
    "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA";

static const char SRTP_PROFILES[] =
    "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";

struct tern_dtls_ctx {
  SSL_CTX *ssl_ctx;
  BIO_METHOD *bio_meth; /* per context, so the module keeps no globals */
  unsigned initial_rto_us, max_rto_us, max_retransmits, hs_timeout_ms;
};

struct early_dgram {
  uint8_t *buf;
  size_t len;
};

struct tern_dtls {
  struct tern_dtls_ctx *ctx;
  SSL *ssl;
  enum tern_dtls_role role;
  enum tern_dtls_state state;
  struct tern_dtls_ops ops;
  void *user;

  bool have_fp, fp_mismatch;
  char fp_alg[16];
  char fp_value[TERN_CERT_FP_MAX];
  size_t mtu;

  /* The one datagram OpenSSL's next BIO read returns (borrowed). */
  const uint8_t *in_buf;
  size_t in_len;

  uint64_t timer_ms, deadline_ms;
  unsigned flight_retransmits;

  struct early_dgram early[EARLY_MAX];
  unsigned n_early;

  struct tern_dtls_stats stats;
  char log_id[64];
  char reason[192];
  uint8_t rx[RX_MAX];
};

/* ---- custom BIO: one write = one datagram, one read = one datagram ----
 *
 * A memory BIO would concatenate separate writes, and the owner would have
 * to re-split them on record boundaries. Here each write goes straight to
 * ops->send: OpenSSL already sizes its writes to the MTU (during the
 * handshake it stacks a buffering BIO on ours and flushes before a record
 * would overflow the MTU). Reads hand over the current datagram whole and then report
 * "retry" (what BIO_set_mem_eof_return(rbio, -1) gives a mem BIO), which
 * also avoids copying every packet into a BIO buffer. */

static int bio_write(BIO *b, const char *in, int inl) {
  struct tern_dtls *d = BIO_get_data(b);

  BIO_clear_retry_flags(b);
  if (!d || inl <= 0)
    return inl < 0 ? -1 : 0;
  d->stats.datagrams_out++;
  d->stats.bytes_out += (uint64_t)inl;
  d->ops.send(d->user, (const uint8_t *)in, (size_t)inl);
  return inl;
}

static int bio_read(BIO *b, char *out, int outl) {
  struct tern_dtls *d = BIO_get_data(b);

  BIO_clear_retry_flags(b);
  if (!d || !d->in_buf || outl < 0 || (size_t)outl < d->in_len) {
    /* outl < in_len cannot happen: OpenSSL reads into its full record
     * buffer and input is capped at TERN_DTLS_MAX_DATAGRAM. */
    if (d)
      d->in_buf = NULL;
    BIO_set_retry_read(b);
    return -1;
  }
  memcpy(out, d->in_buf, d->in_len);
  d->in_buf = NULL;
  return (int)d->in_len;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr) {
  (void)b, (void)num, (void)ptr;
  switch (cmd) {
  case BIO_CTRL_FLUSH:
    return 1;
  case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
    /* Our MTU already counts the UDP payload only. */
    return 0;
  default:
    /* No MTU query (SSL_OP_NO_QUERY_MTU), no peer address, no pending. */
    return 0;
  }
}

static int bio_create(BIO *b) {
  BIO_set_init(b, 1);
  BIO_set_data(b, NULL);
  return 1;
}

static int bio_destroy(BIO *b) {
  BIO_set_data(b, NULL);
  return 1;
}

/* ---- helpers ---- */

static void set_log_id(struct tern_dtls *d, const char *log_id) {
  snprintf(d->log_id, sizeof(d->log_id), "%s", log_id ? log_id : "dtls");
}

/* RFC 6347 §4.1: a datagram carries whole records. Checking the framing
 * before OpenSSL sees it drops stray bytes cheaply and lets us count them
 * (OpenSSL discards bad records silently). Record versions: DTLS 1.0
 * (0xFEFF, used by ClientHellos) and DTLS 1.2 (0xFEFD). */
static bool framing_ok(const uint8_t *p, size_t len) {
  if (len < DTLS_HDR)
    return false;
  while (len > 0) {
    size_t rl;

    if (len < DTLS_HDR)
      return false;
    if (p[0] < 20 || p[0] > 23 || p[1] != 0xfe ||
        (p[2] != 0xff && p[2] != 0xfd))
      return false;
    rl = ((size_t)p[11] << 8) | p[12];
    if (rl > len - DTLS_HDR)
      return false;
    p += DTLS_HDR + rl;
    len -= DTLS_HDR + rl;
  }
  return true;
}

/* Accepts "AB:CD:…" with exactly the digest's length, any hex case; stores
 * it uppercased so later comparisons are plain. */
static int parse_fingerprint(const char *alg, const char *value, char *alg_out,
                             size_t alg_cap, char *out, size_t cap) {
  const EVP_MD *md = tern_cert_fp_md(alg);
  size_t n, want;

  if (!md || !value || strlen(alg) >= alg_cap)
    return -EINVAL;
  want = (size_t)EVP_MD_get_size(md) * 3 - 1;
  n = strlen(value);
  if (n != want || n >= cap)
    return -EINVAL;
  for (size_t i = 0; i < n; i++) {
    char c = value[i];

    if (i % 3 == 2) {
      if (c != ':')
        return -EINVAL;
    } else if (c >= '0' && c <= '9') {
      out[i] = c;
      continue;
    } else if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
      out[i] = (char)(c & ~0x20);
      continue;
    } else {
      return -EINVAL;
    }
    out[i] = c;
  }
  out[n] = '\0';
  snprintf(alg_out, alg_cap, "%s", alg);
  return 0;
}

static bool fingerprint_matches(const struct tern_dtls *d, X509 *x) {
  char fp[TERN_CERT_FP_MAX];

  if (!d->have_fp || !x)
    return false;
  if (tern_cert_fingerprint_x509(x, d->fp_alg, fp, sizeof(fp)) < 0)
    return false;
  return strcasecmp(fp, d->fp_value) == 0;
}

static void fail(struct tern_dtls *d, const char *reason) {
  if (d->state == TERN_DTLS_FAILED || d->state == TERN_DTLS_CLOSED)
    return;
  d->state = TERN_DTLS_FAILED;
  d->timer_ms = UINT64_MAX;
  snprintf(d->reason, sizeof(d->reason), "%s", reason);
  tern_log_warn(d->log_id, "DTLS failed: %s", d->reason);
  if (d->ops.failed)
    d->ops.failed(d->user, d->reason);
}

/* Fails with OpenSSL's own explanation, except that a fingerprint rejection
 * from verify_cb is named as such: it is the reason a user needs to see. */
static void fail_ssl(struct tern_dtls *d, const char *what) {
  char err[128] = "unknown error";
  char reason[192];
  unsigned long e = ERR_peek_last_error();

  if (d->fp_mismatch) {
    ERR_clear_error();
    fail(d, "peer certificate fingerprint does not match the SDP a=fingerprint");
    return;
  }
  if (e)
    ERR_error_string_n(e, err, sizeof(err));
  ERR_clear_error();
  snprintf(reason, sizeof(reason), "%s: %s", what, err);
  fail(d, reason);
}

/* ---- OpenSSL callbacks ---- */

/* WebRTC certificates are self-signed and unknown to any trust store, so
 * chain errors are ignored; the end-entity certificate must instead match the
 * SDP fingerprint. Rejecting here (not only after the handshake) makes
 * OpenSSL send bad_certificate and stop before its Finished, so neither side
 * ever believes the association is up. */
static int verify_cb(int preverify_ok, X509_STORE_CTX *store) {
  SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
  struct tern_dtls *d = ssl ? SSL_get_app_data(ssl) : NULL;

  (void)preverify_ok;
  if (!d)
    return 0;
  if (X509_STORE_CTX_get_error_depth(store) != 0)
    return 1;
  if (fingerprint_matches(d, X509_STORE_CTX_get_current_cert(store)))
    return 1;
  d->fp_mismatch = true;
  X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
  return 0;
}

/* OpenSSL calls this with 0 when a new flight starts its timer, and with the
 * current timeout when that timer expired and the flight is resent. */
static unsigned int timer_cb(SSL *ssl, unsigned int prev_us) {
  struct tern_dtls *d = SSL_get_app_data(ssl);
  uint64_t next;

  if (!d)
    return 1000000;
  if (prev_us == 0) {
    d->flight_retransmits = 0;
    return d->ctx->initial_rto_us;
  }
  d->flight_retransmits++;
  d->stats.retransmits++;
  next = (uint64_t)prev_us * 2;
  return next > d->ctx->max_rto_us ? d->ctx->max_rto_us : (unsigned)next;
}

/* ---- context ---- */

struct tern_dtls_ctx *tern_dtls_ctx_create(const struct tern_cert *cert) {
  return tern_dtls_ctx_create_ex(cert, NULL);
}

static int setup_ssl_ctx(SSL_CTX *c, const struct tern_cert *cert, const char *profiles) {
  if (!SSL_CTX_set_min_proto_version(c, DTLS1_2_VERSION) ||
      !SSL_CTX_set_max_proto_version(c, DTLS1_2_VERSION))
    return 0;
  if (SSL_CTX_use_certificate(c, tern_cert_x509(cert)) != 1 ||
      SSL_CTX_use_PrivateKey(c, tern_cert_pkey(cert)) != 1 ||
      SSL_CTX_check_private_key(c) != 1)
    return 0;
  if (SSL_CTX_set_cipher_list(c, CIPHERS) != 1 ||
      SSL_CTX_set1_groups_list(c, "X25519:P-256:P-384") != 1)
    return 0;
  /* Note the inverted convention: 0 means success. */
  if (SSL_CTX_set_tlsext_use_srtp(c, profiles) != 0)
    return 0;
  SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
  /* No MTU discovery through the BIO (we have no socket); no tickets,
   * session cache or renegotiation: WebRTC never resumes or renegotiates,
   * and each is attack surface. */
  SSL_CTX_set_options(c, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET |
                             SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                             SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  return 1;
}

struct tern_dtls_ctx *tern_dtls_ctx_create_ex(const struct tern_cert *cert,
                                              const struct tern_dtls_ctx_opts *opts) {
  struct tern_dtls_ctx *ctx;
  const char *profiles = SRTP_PROFILES;

  if (!cert)
    return NULL;
  ctx = calloc(1, sizeof(*ctx));
  if (!ctx)
    return NULL;
  ctx->initial_rto_us = 400000;
  ctx->max_rto_us = 3200000;
  ctx->max_retransmits = 6;
  ctx->hs_timeout_ms = 20000;
  if (opts) {
    if (opts->srtp_profiles)
      profiles = opts->srtp_profiles;
    /* Below 15 ms OpenSSL treats a timer as already expired. */
    if (opts->initial_rto_ms)
      ctx->initial_rto_us = (opts->initial_rto_ms < 20 ? 20 : opts->initial_rto_ms) * 1000u;
    if (opts->max_rto_ms)
      ctx->max_rto_us = (opts->max_rto_ms > 60000 ? 60000 : opts->max_rto_ms) * 1000u;
    if (ctx->max_rto_us < ctx->initial_rto_us)
      ctx->max_rto_us = ctx->initial_rto_us;
    if (opts->max_retransmits)
      ctx->max_retransmits = opts->max_retransmits;
    if (opts->handshake_timeout_ms)
      ctx->hs_timeout_ms = opts->handshake_timeout_ms;
  }

  ctx->ssl_ctx = SSL_CTX_new(DTLS_method());
  if (!ctx->ssl_ctx || !setup_ssl_ctx(ctx->ssl_ctx, cert, profiles))
    goto free_ctx;
  /* The type value only matters to BIO_find_type, which nothing uses;
   * BIO_get_new_index would burn one of ~127 process-wide slots per ctx. */
  ctx->bio_meth = BIO_meth_new(BIO_TYPE_SOURCE_SINK | 0x7f, "tern-dtls");
  if (!ctx->bio_meth || !BIO_meth_set_write(ctx->bio_meth, bio_write) ||
      !BIO_meth_set_read(ctx->bio_meth, bio_read) ||
      !BIO_meth_set_ctrl(ctx->bio_meth, bio_ctrl) ||
      !BIO_meth_set_create(ctx->bio_meth, bio_create) ||
      !BIO_meth_set_destroy(ctx->bio_meth, bio_destroy))
    goto free_ctx;
  return ctx;

free_ctx:
  ERR_clear_error();
  tern_dtls_ctx_destroy(ctx);
  return NULL;
}

void tern_dtls_ctx_destroy(struct tern_dtls_ctx *ctx) {
  if (!ctx)
    return;
  SSL_CTX_free(ctx->ssl_ctx);
  BIO_meth_free(ctx->bio_meth);
  free(ctx);
}

/* ---- connection ---- */

struct tern_dtls *tern_dtls_create(struct tern_dtls_ctx *ctx, enum tern_dtls_role role,
                                   const char *remote_fp_alg, const char *remote_fp_value,
                                   const struct tern_dtls_ops *ops, void *user,
                                   const char *log_id) {
  struct tern_dtls *d;
  BIO *bio;

  if (!ctx || !ops || !ops->send)
    return NULL;
  d = calloc(1, sizeof(*d));
  if (!d)
    return NULL;
  d->ctx = ctx;
  d->role = role;
  d->state = TERN_DTLS_NEW;
  d->ops = *ops;
  d->user = user;
  d->mtu = TERN_DTLS_DEFAULT_MTU;
  d->timer_ms = UINT64_MAX;
  set_log_id(d, log_id);
  if ((remote_fp_alg || remote_fp_value) &&
      tern_dtls_set_remote_fingerprint(d, remote_fp_alg, remote_fp_value) < 0)
    goto free_d;

  d->ssl = SSL_new(ctx->ssl_ctx);
  if (!d->ssl)
    goto free_d;
  SSL_set_app_data(d->ssl, d);
  bio = BIO_new(ctx->bio_meth);
  if (!bio)
    goto free_ssl;
  BIO_set_data(bio, d);
  SSL_set_bio(d->ssl, bio, bio); /* the SSL now owns the one reference */
  DTLS_set_timer_cb(d->ssl, timer_cb);
  if (role == TERN_DTLS_ROLE_CLIENT)
    SSL_set_connect_state(d->ssl);
  else
    SSL_set_accept_state(d->ssl);
  return d;

free_ssl:
  SSL_free(d->ssl);
free_d:
  ERR_clear_error();
  free(d);
  return NULL;
}

int tern_dtls_set_remote_fingerprint(struct tern_dtls *d, const char *alg, const char *value) {
  if (d->state != TERN_DTLS_NEW)
    return -EBUSY;
  if (parse_fingerprint(alg, value, d->fp_alg, sizeof(d->fp_alg), d->fp_value,
                        sizeof(d->fp_value)) < 0)
    return -EINVAL;
  d->have_fp = true;
  return 0;
}

int tern_dtls_set_mtu(struct tern_dtls *d, size_t mtu) {
  if (d->state != TERN_DTLS_NEW)
    return -EBUSY;
  if (mtu < 256 || mtu > TERN_DTLS_MAX_DATAGRAM)
    return -EINVAL;
  d->mtu = mtu;
  return 0;
}

/* The timer the owner must honour: what OpenSSL says is left on its
 * (wall-clock) retransmission timer, measured from the owner's now, and
 * never later than the handshake deadline. */
static void update_timer(struct tern_dtls *d, uint64_t now) {
  struct timeval tv;
  uint64_t t = UINT64_MAX;

  if (d->state != TERN_DTLS_CONNECTING && d->state != TERN_DTLS_CONNECTED) {
    d->timer_ms = UINT64_MAX;
    return;
  }
  if (DTLSv1_get_timeout(d->ssl, &tv) == 1)
    t = now + (uint64_t)tv.tv_sec * 1000 + ((uint64_t)tv.tv_usec + 999) / 1000;
  if (d->state == TERN_DTLS_CONNECTING && d->deadline_ms < t)
    t = d->deadline_ms;
  d->timer_ms = t;
}

static void handshake_done(struct tern_dtls *d) {
  const SRTP_PROTECTION_PROFILE *p;

  /* verify_cb already checked; this is the belt to its braces, in case a
   * future OpenSSL skips the callback (e.g. on resumption). */
  if (!fingerprint_matches(d, SSL_get0_peer_certificate(d->ssl))) {
    d->fp_mismatch = true;
    ERR_clear_error();
    SSL_shutdown(d->ssl);
    fail_ssl(d, "handshake");
    return;
  }
  d->state = TERN_DTLS_CONNECTED;
  p = SSL_get_selected_srtp_profile(d->ssl);
  tern_log_info(d->log_id, "DTLS connected as %s: %s, srtp %s",
                d->role == TERN_DTLS_ROLE_CLIENT ? "client" : "server",
                SSL_get_cipher_name(d->ssl), p ? p->name : "none");
  if (d->ops.connected)
    d->ops.connected(d->user);
}

static void read_app_data(struct tern_dtls *d) {
  while (d->state == TERN_DTLS_CONNECTED) {
    int n, e;

    ERR_clear_error();
    n = SSL_read(d->ssl, d->rx, sizeof(d->rx));
    if (n > 0) {
      d->stats.app_in++;
      if (d->ops.data)
        d->ops.data(d->user, d->rx, (size_t)n);
      continue;
    }
    e = SSL_get_error(d->ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
      break;
    if (e == SSL_ERROR_ZERO_RETURN) {
      d->state = TERN_DTLS_CLOSED;
      d->timer_ms = UINT64_MAX;
      tern_log_info(d->log_id, "DTLS close_notify received");
      if (d->ops.closed)
        d->ops.closed(d->user);
      break;
    }
    fail_ssl(d, "connection error");
  }
}

/* Runs OpenSSL on whatever input is pending (possibly none). */
static void drive(struct tern_dtls *d, uint64_t now) {
  if (d->state == TERN_DTLS_CONNECTING) {
    int r, e;

    ERR_clear_error();
    r = SSL_do_handshake(d->ssl);
    if (r == 1) {
      handshake_done(d);
    } else {
      e = SSL_get_error(d->ssl, r);
      if (e == SSL_ERROR_ZERO_RETURN)
        fail(d, "handshake failed: peer sent close_notify");
      else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
        fail_ssl(d, "handshake failed");
    }
  }
  /* Records after the Finished in the same datagram, or app data OpenSSL
   * buffered while the handshake was finishing. */
  if (d->state == TERN_DTLS_CONNECTED)
    read_app_data(d);
  update_timer(d, now);
}

static void process_datagram(struct tern_dtls *d, const uint8_t *buf, size_t len,
                             uint64_t now) {
  d->stats.datagrams_in++;
  d->stats.bytes_in += len;
  d->in_buf = buf;
  d->in_len = len;
  drive(d, now);
  d->in_buf = NULL; /* never let one datagram leak into the next read */
}

static void free_early(struct tern_dtls *d) {
  for (unsigned i = 0; i < d->n_early; i++)
    free(d->early[i].buf);
  d->n_early = 0;
}

void tern_dtls_start(struct tern_dtls *d, uint64_t now_ms) {
  unsigned n;

  if (d->state != TERN_DTLS_NEW)
    return;
  d->state = TERN_DTLS_CONNECTING;
  d->deadline_ms = now_ms + d->ctx->hs_timeout_ms;
  if (!d->have_fp) {
    free_early(d);
    fail(d, "no remote fingerprint: cannot authenticate the peer");
    return;
  }
  if (!DTLS_set_link_mtu(d->ssl, (long)d->mtu)) {
    free_early(d);
    fail(d, "MTU rejected by OpenSSL");
    return;
  }
  drive(d, now_ms); /* the client's ClientHello */

  /* Datagrams that beat start (e.g. a browser's ClientHello racing our ICE
   * "connected"); they are owned copies, freed as they are consumed. */
  n = d->n_early;
  d->n_early = 0;
  for (unsigned i = 0; i < n; i++) {
    if (d->state == TERN_DTLS_CONNECTING || d->state == TERN_DTLS_CONNECTED)
      process_datagram(d, d->early[i].buf, d->early[i].len, now_ms);
    else
      d->stats.dropped++;
    free(d->early[i].buf);
  }
}

void tern_dtls_input(struct tern_dtls *d, const uint8_t *buf, size_t len, uint64_t now_ms) {
  if (len > TERN_DTLS_MAX_DATAGRAM) {
    d->stats.dropped++;
    return;
  }
  if (!buf || !framing_ok(buf, len)) {
    d->stats.bad_records++;
    return;
  }
  switch (d->state) {
  case TERN_DTLS_NEW:
    /* Not a hot path: only before start, bounded by EARLY_MAX. */
    if (d->n_early < EARLY_MAX) {
      uint8_t *copy = malloc(len);

      if (copy) {
        memcpy(copy, buf, len);
        d->early[d->n_early].buf = copy;
        d->early[d->n_early].len = len;
        d->n_early++;
        return;
      }
    }
    d->stats.dropped++;
    return;
  case TERN_DTLS_CONNECTING:
  case TERN_DTLS_CONNECTED:
    process_datagram(d, buf, len, now_ms);
    return;
  default:
    d->stats.dropped++;
    return;
  }
}

int tern_dtls_send(struct tern_dtls *d, const uint8_t *buf, size_t len) {
  int n;

  if (d->state != TERN_DTLS_CONNECTED)
    return -ENOTCONN;
  if (len > RX_MAX)
    return -EMSGSIZE;
  if (len == 0)
    return 0;
  ERR_clear_error();
  n = SSL_write(d->ssl, buf, (int)len);
  if (n != (int)len) {
    /* The BIO never blocks, so any failure is a real one; the association
     * stays as it is and the caller decides (SCTP retransmits). */
    ERR_clear_error();
    return -EIO;
  }
  d->stats.app_out++;
  return 0;
}

size_t tern_dtls_max_payload(const struct tern_dtls *d) {
  if (d->state != TERN_DTLS_CONNECTED)
    return 0;
  return DTLS_get_data_mtu(d->ssl);
}

uint64_t tern_dtls_next_timeout(const struct tern_dtls *d) { return d->timer_ms; }

void tern_dtls_handle_timeout(struct tern_dtls *d, uint64_t now_ms) {
  struct timeval tv;

  if (now_ms < d->timer_ms)
    return;
  if (d->state == TERN_DTLS_CONNECTING) {
    if (now_ms >= d->deadline_ms) {
      fail(d, "timeout: handshake not complete in time");
      return;
    }
    /* OpenSSL's timer agrees it expired, and this flight was already sent
     * max_retransmits + 1 times: the peer is gone. */
    if (d->flight_retransmits >= d->ctx->max_retransmits &&
        DTLSv1_get_timeout(d->ssl, &tv) == 1 && tv.tv_sec == 0 && tv.tv_usec == 0) {
      fail(d, "timeout: no answer to retransmitted flight");
      return;
    }
  }
  if (d->state != TERN_DTLS_CONNECTING && d->state != TERN_DTLS_CONNECTED)
    return;
  ERR_clear_error();
  if (DTLSv1_handle_timeout(d->ssl) < 0) {
    fail_ssl(d, "timeout");
    return;
  }
  update_timer(d, now_ms);
}

enum tern_dtls_state tern_dtls_state(const struct tern_dtls *d) { return d->state; }

const struct tern_dtls_stats *tern_dtls_get_stats(const struct tern_dtls *d) {
  return &d->stats;
}

/* RFC 5764 §4.2: the exporter output is client_key | server_key |
 * client_salt | server_salt; RFC 7714 §12 gives GCM a 12-byte salt. */
int tern_dtls_srtp_keying(const struct tern_dtls *d, struct tern_srtp_keying *out) {
  uint8_t km[2 * (16 + 14)];
  const SRTP_PROTECTION_PROFILE *p;
  size_t kl = 16, sl;
  const uint8_t *ck, *sk, *cs, *ss;
  static const char label[] = "EXTRACTOR-dtls_srtp";

  if (d->state != TERN_DTLS_CONNECTED)
    return -ENOTCONN;
  p = SSL_get_selected_srtp_profile(d->ssl);
  if (!p)
    return -ENOENT;
  if (p->id == SRTP_AEAD_AES_128_GCM)
    sl = 12;
  else if (p->id == SRTP_AES128_CM_SHA1_80)
    sl = 14;
  else
    return -ENOTSUP;
  if (SSL_export_keying_material(d->ssl, km, 2 * (kl + sl), label, sizeof(label) - 1,
                                 NULL, 0, 0) != 1) {
    ERR_clear_error();
    return -EIO;
  }
  ck = km;
  sk = km + kl;
  cs = km + 2 * kl;
  ss = km + 2 * kl + sl;
  memset(out, 0, sizeof(*out));
  out->profile = (int)p->id;
  out->key_len = kl;
  out->salt_len = sl;
  if (d->role == TERN_DTLS_ROLE_CLIENT) {
    memcpy(out->local_key, ck, kl), memcpy(out->local_salt, cs, sl);
    memcpy(out->remote_key, sk, kl), memcpy(out->remote_salt, ss, sl);
  } else {
    memcpy(out->local_key, sk, kl), memcpy(out->local_salt, ss, sl);
    memcpy(out->remote_key, ck, kl), memcpy(out->remote_salt, cs, sl);
  }
  OPENSSL_cleanse(km, sizeof(km));
  return 0;
}

void tern_dtls_close(struct tern_dtls *d) {
  if (d->state == TERN_DTLS_CONNECTED) {
    ERR_clear_error();
    SSL_shutdown(d->ssl); /* writes close_notify: one datagram */
    ERR_clear_error();
  }
  if (d->state != TERN_DTLS_FAILED)
    d->state = TERN_DTLS_CLOSED;
  d->timer_ms = UINT64_MAX;
  free_early(d);
}

void tern_dtls_destroy(struct tern_dtls *d) {
  if (!d)
    return;
  free_early(d);
  SSL_free(d->ssl);
  free(d);
}
