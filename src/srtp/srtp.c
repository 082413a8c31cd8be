/* srtp.c — libsrtp2 behind tern_srtp. See srtp.h for the rules. */
#include "srtp/srtp.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <srtp2/srtp.h>

#include "core/log.h"
#include "dtls/dtls.h"

/* Nothing bigger travels in one UDP datagram; also keeps lengths in int. */
#define MAX_PACKET 65535
#define RTP_HEADER 12
#define RTCP_HEADER 8
#define SRTCP_INDEX 4

struct tern_srtp {
  srtp_t tx, rx;
  int profile;
  size_t rtp_overhead, rtcp_overhead;
  struct tern_srtp_stats stats;
};

/* libsrtp's crypto kernel is process-wide (see srtp.h). */
static pthread_mutex_t lib_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned lib_refs;

int tern_srtp_library_ref(void) {
  int rc = 0;
  pthread_mutex_lock(&lib_lock);
  if (lib_refs == 0) {
    srtp_err_status_t st = srtp_init();
    if (st != srtp_err_status_ok) {
      tern_log_error(NULL, "srtp: srtp_init failed (%d)", (int)st);
      rc = -EIO;
      goto unlock;
    }
  }
  lib_refs++;
unlock:
  pthread_mutex_unlock(&lib_lock);
  return rc;
}

void tern_srtp_library_unref(void) {
  pthread_mutex_lock(&lib_lock);
  if (lib_refs > 0 && --lib_refs == 0)
    srtp_shutdown();
  pthread_mutex_unlock(&lib_lock);
}

static int make_session(srtp_t *out, const struct tern_srtp_keying *k,
                        bool outbound, unsigned window) {
  srtp_policy_t p;
  uint8_t key[SRTP_MAX_KEY_LEN];
  memset(&p, 0, sizeof(p));
  if (k->profile == TERN_SRTP_AEAD_AES_128_GCM) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
  } else {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
  }
  /* libsrtp wants the master key immediately followed by the master salt. */
  memcpy(key, outbound ? k->local_key : k->remote_key, k->key_len);
  memcpy(key + k->key_len, outbound ? k->local_salt : k->remote_salt,
         k->salt_len);
  p.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
  p.key = key;
  p.window_size = window;
  /* Resending a NACKed packet reuses its index with the same payload, which
   * is safe; libsrtp would otherwise refuse it as a replay on our side. */
  p.allow_repeat_tx = outbound;
  p.next = NULL;
  srtp_err_status_t st = srtp_create(out, &p);
  explicit_bzero(key, sizeof(key));
  if (st != srtp_err_status_ok) {
    tern_log_error(NULL, "srtp: srtp_create failed (%d)", (int)st);
    return -EIO;
  }
  return 0;
}

struct tern_srtp *tern_srtp_create_ex(const struct tern_srtp_keying *k,
                                      unsigned replay_window) {
  if (!k)
    return NULL;
  if (replay_window == 0)
    replay_window = TERN_SRTP_DEFAULT_REPLAY_WINDOW;
  /* libsrtp's limits for the extended replay database. */
  if (replay_window < 64 || replay_window > 0x8000)
    return NULL;
  size_t rtp_tag;
  if (k->profile == TERN_SRTP_AEAD_AES_128_GCM) {
    if (k->key_len != 16 || k->salt_len != 12)
      return NULL;
    rtp_tag = 16;
  } else if (k->profile == TERN_SRTP_AES128_CM_SHA1_80) {
    if (k->key_len != 16 || k->salt_len != 14)
      return NULL;
    rtp_tag = 10;
  } else {
    return NULL;
  }
  struct tern_srtp *s = calloc(1, sizeof(*s));
  if (!s)
    return NULL;
  if (tern_srtp_library_ref() < 0)
    goto free_s;
  if (make_session(&s->tx, k, true, replay_window) < 0)
    goto unref;
  if (make_session(&s->rx, k, false, replay_window) < 0)
    goto dealloc_tx;
  s->profile = k->profile;
  s->rtp_overhead = rtp_tag;
  s->rtcp_overhead = rtp_tag + SRTCP_INDEX;
  return s;

dealloc_tx:
  srtp_dealloc(s->tx);
unref:
  tern_srtp_library_unref();
free_s:
  free(s);
  return NULL;
}

struct tern_srtp *tern_srtp_create(const struct tern_srtp_keying *k) {
  return tern_srtp_create_ex(k, 0);
}

void tern_srtp_destroy(struct tern_srtp *s) {
  if (!s)
    return;
  srtp_dealloc(s->tx);
  srtp_dealloc(s->rx);
  free(s);
  tern_srtp_library_unref();
}

/* libsrtp checks headers too, but checking here first gives every caller the
 * same error for the same garbage whatever libsrtp version is installed. */
static bool rtp_header_ok(const uint8_t *b, size_t len) {
  if (len < RTP_HEADER || len > MAX_PACKET || (b[0] >> 6) != 2)
    return false;
  size_t h = RTP_HEADER + 4u * (b[0] & 0x0f);
  if (b[0] & 0x10) {
    if (h + 4 > len)
      return false;
    h += 4 + 4u * (((size_t)b[h + 2] << 8) | b[h + 3]);
  }
  return h <= len;
}

static bool rtcp_header_ok(const uint8_t *b, size_t len) {
  return len >= RTCP_HEADER && len <= MAX_PACKET && (b[0] >> 6) == 2;
}

/* Maps a libsrtp status to our errno and counts it. */
static int failed(struct tern_srtp *s, srtp_err_status_t st) {
  switch (st) {
  case srtp_err_status_auth_fail:
    s->stats.auth_failures++;
    return -EBADMSG;
  case srtp_err_status_replay_fail:
  case srtp_err_status_replay_old:
    s->stats.replays++;
    return -EALREADY;
  case srtp_err_status_bad_param:
  case srtp_err_status_parse_err:
    s->stats.errors++;
    return -EINVAL;
  default:
    s->stats.errors++;
    return -EIO;
  }
}

int tern_srtp_protect(struct tern_srtp *s, uint8_t *buf, size_t *len, size_t cap) {
  if (!rtp_header_ok(buf, *len)) {
    s->stats.errors++;
    return -EINVAL;
  }
  if (cap < *len || cap - *len < s->rtp_overhead) {
    s->stats.errors++;
    return -ENOSPC;
  }
  int n = (int)*len;
  srtp_err_status_t st = srtp_protect(s->tx, buf, &n);
  if (st != srtp_err_status_ok)
    return failed(s, st);
  *len = (size_t)n;
  s->stats.rtp_protected++;
  return 0;
}

int tern_srtp_unprotect(struct tern_srtp *s, uint8_t *buf, size_t *len) {
  if (*len < RTP_HEADER + s->rtp_overhead || !rtp_header_ok(buf, *len)) {
    s->stats.errors++;
    return -EINVAL;
  }
  int n = (int)*len;
  srtp_err_status_t st = srtp_unprotect(s->rx, buf, &n);
  if (st != srtp_err_status_ok)
    return failed(s, st);
  *len = (size_t)n;
  s->stats.rtp_unprotected++;
  return 0;
}

int tern_srtp_protect_rtcp(struct tern_srtp *s, uint8_t *buf, size_t *len,
                           size_t cap) {
  if (!rtcp_header_ok(buf, *len)) {
    s->stats.errors++;
    return -EINVAL;
  }
  if (cap < *len || cap - *len < s->rtcp_overhead) {
    s->stats.errors++;
    return -ENOSPC;
  }
  int n = (int)*len;
  srtp_err_status_t st = srtp_protect_rtcp(s->tx, buf, &n);
  if (st != srtp_err_status_ok)
    return failed(s, st);
  *len = (size_t)n;
  s->stats.rtcp_protected++;
  return 0;
}

int tern_srtp_unprotect_rtcp(struct tern_srtp *s, uint8_t *buf, size_t *len) {
  if (*len < RTCP_HEADER + s->rtcp_overhead || !rtcp_header_ok(buf, *len)) {
    s->stats.errors++;
    return -EINVAL;
  }
  int n = (int)*len;
  srtp_err_status_t st = srtp_unprotect_rtcp(s->rx, buf, &n);
  if (st != srtp_err_status_ok)
    return failed(s, st);
  *len = (size_t)n;
  s->stats.rtcp_unprotected++;
  return 0;
}

size_t tern_srtp_rtp_overhead(const struct tern_srtp *s) { return s->rtp_overhead; }
size_t tern_srtp_rtcp_overhead(const struct tern_srtp *s) { return s->rtcp_overhead; }
int tern_srtp_profile(const struct tern_srtp *s) { return s->profile; }

const struct tern_srtp_stats *tern_srtp_get_stats(const struct tern_srtp *s) {
  return &s->stats;
}
