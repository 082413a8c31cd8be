#include "ice/ice.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

/* Enough for a request with the longest USERNAME we build (256 + 1 + 8) plus
 * PRIORITY, ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY, FINGERPRINT;
 * and for responses (XOR-MAPPED-ADDRESS, ERROR-CODE, UNKNOWN-ATTRIBUTES). */
#define MSG_MAX 576
#define REMOTE_CRED_MAX 256
#define CHECK_RTO_INITIAL_MS 200
#define CHECK_RTO_MAX_MS 1600
#define CONSENT_TXIDS 4 /* outstanding consent transactions we still accept */

/* RFC 8445 §5.1.2.1: the PRIORITY a peer-reflexive candidate of ours would
 * have: type preference 110, local preference 65535, component 1. */
#define PRFLX_PRIORITY ((110u << 24) | (65535u << 8) | (256u - 1u))

struct check {
  struct sockaddr_storage addr;
  uint32_t priority;
  uint8_t txid[TERN_STUN_TXID_LEN];
  bool sent;     /* txid is live */
  bool failed;   /* error response: never retried */
  uint32_t rto_ms;
  uint64_t next_tx_ms;
};

struct tern_ice_agent {
  enum tern_ice_role role;
  enum tern_ice_state state;
  struct tern_ice_ops ops;
  void *user;
  uint32_t consent_timeout_ms;
  uint32_t connect_timeout_ms;

  char local_ufrag[TERN_ICE_UFRAG_LEN + 1];
  char local_pwd[TERN_ICE_PWD_LEN + 1];
  char remote_ufrag[REMOTE_CRED_MAX + 1];
  char remote_pwd[REMOTE_CRED_MAX + 1];
  bool have_remote;
  uint64_t tiebreaker;
  struct tern_ice_stats stats;

  bool have_selected;
  bool nominated; /* lite: selection came with USE-CANDIDATE */
  struct sockaddr_storage selected;
  uint64_t last_consent_ms; /* last proof the peer still wants our packets */

  /* Controlling role. */
  struct check checks[TERN_ICE_MAX_REMOTE_CANDIDATES];
  size_t n_checks;
  uint64_t started_ms;
  uint64_t next_pace_ms;
  uint64_t next_consent_ms;
  uint8_t consent_txid[CONSENT_TXIDS][TERN_STUN_TXID_LEN];
  unsigned consent_sent; /* how many consent checks were ever sent */
};

const char *tern_ice_state_name(enum tern_ice_state s) {
  switch (s) {
  case TERN_ICE_NEW: return "new";
  case TERN_ICE_CHECKING: return "checking";
  case TERN_ICE_CONNECTED: return "connected";
  case TERN_ICE_DISCONNECTED: return "disconnected";
  case TERN_ICE_FAILED: return "failed";
  case TERN_ICE_CLOSED: return "closed";
  }
  return "unknown";
}

/* RFC 8839 ice-char = ALPHA / DIGIT / "+" / "/": 64 symbols, so a random
 * byte masked to 6 bits picks one without bias. */
static const char ICE_CHARS[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static bool is_ice_chars(const char *s, size_t min, size_t max) {
  size_t n = strnlen(s, max + 1);
  if (n < min || n > max)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!memchr(ICE_CHARS, s[i], sizeof(ICE_CHARS) - 1))
      return false;
  return true;
}

static int random_ice_string(char *out, size_t n) {
  uint8_t r[TERN_ICE_PWD_LEN];
  if (n > sizeof(r) || RAND_bytes(r, (int)n) != 1)
    return -EIO;
  for (size_t i = 0; i < n; i++)
    out[i] = ICE_CHARS[r[i] & 63];
  out[n] = '\0';
  return 0;
}

static bool sockaddr_equal(const struct sockaddr *a, const struct sockaddr *b) {
  if (a->sa_family != b->sa_family)
    return false;
  if (a->sa_family == AF_INET) {
    const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
    return x->sin_port == y->sin_port &&
           x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  if (a->sa_family == AF_INET6) {
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port &&
           x->sin6_scope_id == y->sin6_scope_id &&
           memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
  }
  return false;
}

static void copy_addr(struct sockaddr_storage *dst, const struct sockaddr *src) {
  memset(dst, 0, sizeof(*dst));
  memcpy(dst, src,
         src->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                    : sizeof(struct sockaddr_in));
}

static bool is_closed(const struct tern_ice_agent *a) {
  return a->state == TERN_ICE_CLOSED;
}

static void set_state(struct tern_ice_agent *a, enum tern_ice_state s) {
  if (a->state == s || is_closed(a))
    return;
  a->state = s;
  if (a->ops.state_changed)
    a->ops.state_changed(a->user, s);
}

static void send_msg(struct tern_ice_agent *a, const struct sockaddr *to,
                     const uint8_t *buf, int len) {
  /* A callback may have closed us; after close nothing leaves the agent. */
  if (len <= 0 || is_closed(a) || !a->ops.send)
    return;
  a->ops.send(a->user, to, buf, (size_t)len);
}

static void select_addr(struct tern_ice_agent *a, const struct sockaddr *addr,
                        bool nominated) {
  bool changed = !a->have_selected ||
                 !sockaddr_equal((const struct sockaddr *)&a->selected, addr);
  copy_addr(&a->selected, addr);
  a->have_selected = true;
  a->nominated = a->nominated || nominated;
  if (changed && !is_closed(a) && a->ops.selected)
    a->ops.selected(a->user, (const struct sockaddr *)&a->selected);
}

/* 5 s ± 20 % (RFC 7675 §5.1 says 4–6 s), shortened to half the consent
 * timeout when that is configured below 10 s, so that one check always lands
 * inside the timeout. */
static uint64_t jittered_consent_interval(const struct tern_ice_agent *a) {
  uint16_t r = 0;
  uint64_t base = TERN_ICE_CONSENT_INTERVAL_MS;
  if (base > a->consent_timeout_ms / 2)
    base = a->consent_timeout_ms / 2 ? a->consent_timeout_ms / 2 : 1;
  /* Without randomness, fall back to the plain interval rather than fail:
   * the jitter only avoids synchronised bursts. */
  if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
    return base;
  return base * 8 / 10 + (base * 4 / 10) * r / 65535;
}

struct tern_ice_agent *tern_ice_agent_create(enum tern_ice_role role,
                                             const struct tern_ice_config *cfg,
                                             const struct tern_ice_ops *ops,
                                             void *user) {
  struct tern_ice_agent *a;

  if (role != TERN_ICE_ROLE_CONTROLLED_LITE && role != TERN_ICE_ROLE_CONTROLLING)
    return NULL;
  a = calloc(1, sizeof(*a));
  if (!a)
    return NULL;
  a->role = role;
  a->state = TERN_ICE_NEW;
  if (ops)
    a->ops = *ops;
  a->user = user;
  a->consent_timeout_ms = cfg && cfg->consent_timeout_ms
                              ? cfg->consent_timeout_ms
                              : TERN_ICE_DEFAULT_CONSENT_TIMEOUT_MS;
  a->connect_timeout_ms = cfg && cfg->connect_timeout_ms
                              ? cfg->connect_timeout_ms
                              : TERN_ICE_DEFAULT_CONNECT_TIMEOUT_MS;
  if (random_ice_string(a->local_ufrag, TERN_ICE_UFRAG_LEN) < 0 ||
      random_ice_string(a->local_pwd, TERN_ICE_PWD_LEN) < 0 ||
      RAND_bytes((unsigned char *)&a->tiebreaker, sizeof(a->tiebreaker)) != 1)
    goto free_agent;
  return a;

free_agent:
  free(a);
  return NULL;
}

void tern_ice_agent_destroy(struct tern_ice_agent *a) {
  if (!a)
    return;
  /* The pwd is a key: do not leave it in freed memory. */
  OPENSSL_cleanse(a, sizeof(*a));
  free(a);
}

const char *tern_ice_agent_local_ufrag(const struct tern_ice_agent *a) {
  return a->local_ufrag;
}

const char *tern_ice_agent_local_pwd(const struct tern_ice_agent *a) {
  return a->local_pwd;
}

int tern_ice_agent_set_remote_credentials(struct tern_ice_agent *a,
                                          const char *ufrag, const char *pwd) {
  if (!a || !ufrag || !pwd || !is_ice_chars(ufrag, 4, REMOTE_CRED_MAX) ||
      !is_ice_chars(pwd, 22, REMOTE_CRED_MAX))
    return -EINVAL;
  strcpy(a->remote_ufrag, ufrag);
  strcpy(a->remote_pwd, pwd);
  a->have_remote = true;
  return 0;
}

int tern_ice_agent_add_remote_candidate(struct tern_ice_agent *a,
                                        const struct sockaddr *addr,
                                        uint32_t priority) {
  if (!a || !addr)
    return -EINVAL;
  if (addr->sa_family != AF_INET && addr->sa_family != AF_INET6)
    return -EAFNOSUPPORT;
  for (size_t i = 0; i < a->n_checks; i++)
    if (sockaddr_equal((const struct sockaddr *)&a->checks[i].addr, addr))
      return 0;
  if (a->n_checks == TERN_ICE_MAX_REMOTE_CANDIDATES)
    return -ENOSPC;
  struct check *c = &a->checks[a->n_checks++];
  memset(c, 0, sizeof(*c));
  copy_addr(&c->addr, addr);
  c->priority = priority;
  c->rto_ms = CHECK_RTO_INITIAL_MS;
  return 0;
}

enum tern_ice_state tern_ice_agent_state(const struct tern_ice_agent *a) {
  return a->state;
}

enum tern_ice_role tern_ice_agent_role(const struct tern_ice_agent *a) {
  return a->role;
}

const struct sockaddr *tern_ice_agent_selected(const struct tern_ice_agent *a) {
  return a->have_selected ? (const struct sockaddr *)&a->selected : NULL;
}

const struct tern_ice_stats *tern_ice_agent_stats(const struct tern_ice_agent *a) {
  return &a->stats;
}

void tern_ice_agent_close(struct tern_ice_agent *a) {
  if (a)
    a->state = TERN_ICE_CLOSED;
}

/* ---- answering requests (both roles) ---- */

/* Success or error response to an authenticated request, signed with our
 * password (RFC 8445 §7.3.1: the responder uses its own password). */
static void respond(struct tern_ice_agent *a, const struct sockaddr *to,
                    const struct tern_stun_msg *req, uint16_t err_code,
                    const char *reason) {
  uint8_t out[MSG_MAX];
  struct tern_stun_writer w;

  tern_stun_writer_begin(&w, out, sizeof(out),
                         err_code ? TERN_STUN_BINDING_ERROR
                                  : TERN_STUN_BINDING_SUCCESS,
                         req->txid);
  if (err_code) {
    tern_stun_add_error_code(&w, err_code, reason);
    if (err_code == TERN_STUN_ERR_UNKNOWN_ATTRIBUTE)
      tern_stun_add_unknown_attributes(&w, req->unknown, req->n_unknown);
  } else {
    tern_stun_add_xor_mapped_address(&w, to);
  }
  send_msg(a, to, out,
           tern_stun_writer_finish(&w, a->local_pwd, TERN_ICE_PWD_LEN, true));
}

static bool bytes_eq(const uint8_t *p, size_t n, const char *s) {
  return strlen(s) == n && memcmp(p, s, n) == 0;
}

/* USERNAME must be "<our ufrag>:<their ufrag>". Before the remote
 * description is known (the check raced the answer) only our half can be
 * checked; our password is all that is needed to verify and answer. */
static bool username_ok(const struct tern_ice_agent *a,
                        const struct tern_stun_msg *m) {
  const uint8_t *l, *r;
  size_t ll, rl;
  if (tern_stun_username_split(m, &l, &ll, &r, &rl) < 0)
    return false;
  if (!bytes_eq(l, ll, a->local_ufrag))
    return false;
  return !a->have_remote || bytes_eq(r, rl, a->remote_ufrag);
}

/* Lite side of nomination and consent, after a request was answered. See
 * ice.h for why an un-nominated request selects provisionally. */
static void lite_after_request(struct tern_ice_agent *a,
                               const struct sockaddr *from,
                               const struct tern_stun_msg *m, uint64_t now) {
  if (m->use_candidate)
    select_addr(a, from, true);
  else if (!a->have_selected)
    select_addr(a, from, false);
  if (!sockaddr_equal((const struct sockaddr *)&a->selected, from))
    return;
  a->last_consent_ms = now;
  set_state(a, TERN_ICE_CONNECTED);
}

static void handle_request(struct tern_ice_agent *a, const struct sockaddr *from,
                           const uint8_t *buf, size_t len,
                           const struct tern_stun_msg *m, uint64_t now) {
  /* Cheapest first: FINGERPRINT is mandatory for ICE (RFC 8445 §7.2.2) and
   * costs a CRC, the HMAC costs an EVP_MAC round. */
  if (!m->has_fingerprint || !m->fingerprint_ok) {
    a->stats.bad_fingerprint++;
    return;
  }
  if (!username_ok(a, m)) {
    a->stats.bad_username++;
    return;
  }
  if (!tern_stun_check_integrity(buf, len, m, a->local_pwd, TERN_ICE_PWD_LEN)) {
    a->stats.bad_integrity++;
    return;
  }
  /* RFC 8445 §7.3.1.1. A lite agent is always controlled and Tern's client
   * always controlling: neither switches, so the conflict is always ours to
   * report and the peer (a full agent) is the one to switch. */
  bool conflict = a->role == TERN_ICE_ROLE_CONTROLLED_LITE
                      ? m->has_ice_controlled
                      : m->has_ice_controlling;
  if (conflict) {
    a->stats.role_conflicts++;
    respond(a, from, m, TERN_STUN_ERR_ROLE_CONFLICT, "Role Conflict");
    return;
  }
  if (m->n_unknown) {
    a->stats.unknown_attributes++;
    respond(a, from, m, TERN_STUN_ERR_UNKNOWN_ATTRIBUTE, "Unknown Attribute");
    return;
  }
  a->stats.requests_ok++;
  respond(a, from, m, 0, NULL);
  if (a->role == TERN_ICE_ROLE_CONTROLLED_LITE)
    lite_after_request(a, from, m, now);
}

/* ---- controlling role ---- */

static int build_request(struct tern_ice_agent *a, uint8_t *out, size_t cap,
                         const uint8_t txid[TERN_STUN_TXID_LEN]) {
  char user[REMOTE_CRED_MAX + 1 + TERN_ICE_UFRAG_LEN + 1];
  struct tern_stun_writer w;
  size_t ul = strlen(a->remote_ufrag);

  /* "<remote ufrag>:<local ufrag>", keyed with the remote password. */
  memcpy(user, a->remote_ufrag, ul);
  user[ul] = ':';
  memcpy(user + ul + 1, a->local_ufrag, TERN_ICE_UFRAG_LEN);
  tern_stun_writer_begin(&w, out, cap, TERN_STUN_BINDING_REQUEST, txid);
  tern_stun_add_username(&w, user, ul + 1 + TERN_ICE_UFRAG_LEN);
  tern_stun_add_priority(&w, PRFLX_PRIORITY);
  tern_stun_add_ice_controlling(&w, a->tiebreaker);
  tern_stun_add_use_candidate(&w); /* aggressive nomination */
  return tern_stun_writer_finish(&w, a->remote_pwd, strlen(a->remote_pwd),
                                 true);
}

static void send_request(struct tern_ice_agent *a, const struct sockaddr *to,
                         const uint8_t txid[TERN_STUN_TXID_LEN]) {
  uint8_t out[MSG_MAX];
  send_msg(a, to, out, build_request(a, out, sizeof(out), txid));
}

/* The check to transmit now: a never-sent one first, then a due
 * retransmission; highest priority first within each. */
static struct check *next_check(struct tern_ice_agent *a, uint64_t now) {
  struct check *best = NULL;
  for (size_t i = 0; i < a->n_checks; i++) {
    struct check *c = &a->checks[i];
    if (c->failed || (c->sent && c->next_tx_ms > now))
      continue;
    if (!best || (!c->sent && best->sent) ||
        (c->sent == best->sent && c->priority > best->priority))
      best = c;
  }
  return best;
}

static void controlling_checking_timeout(struct tern_ice_agent *a,
                                         uint64_t now) {
  if (now >= a->started_ms + a->connect_timeout_ms) {
    set_state(a, TERN_ICE_FAILED);
    return;
  }
  if (!a->have_remote || now < a->next_pace_ms)
    return;
  struct check *c = next_check(a, now);
  if (!c)
    return;
  if (!c->sent) {
    if (RAND_bytes(c->txid, TERN_STUN_TXID_LEN) != 1)
      return;
    c->sent = true;
  } else {
    /* Retransmissions reuse the transaction id (RFC 8489 §6.2.1). */
    c->rto_ms = c->rto_ms * 2 > CHECK_RTO_MAX_MS ? CHECK_RTO_MAX_MS
                                                 : c->rto_ms * 2;
  }
  c->next_tx_ms = now + c->rto_ms;
  a->next_pace_ms = now + TERN_ICE_CHECK_PACE_MS;
  send_request(a, (const struct sockaddr *)&c->addr, c->txid);
}

static void controlling_consent_timeout(struct tern_ice_agent *a,
                                        uint64_t now) {
  if (a->state == TERN_ICE_CONNECTED &&
      now >= a->last_consent_ms + a->consent_timeout_ms)
    set_state(a, TERN_ICE_DISCONNECTED);
  if (now < a->next_consent_ms || is_closed(a))
    return;
  /* A fresh transaction per consent check, not retransmitted (RFC 7675
   * §5.1); the last few ids stay valid for late responses. */
  uint8_t *txid = a->consent_txid[a->consent_sent % CONSENT_TXIDS];
  if (RAND_bytes(txid, TERN_STUN_TXID_LEN) != 1)
    return;
  a->consent_sent++;
  a->next_consent_ms = now + jittered_consent_interval(a);
  send_request(a, (const struct sockaddr *)&a->selected, txid);
}

static struct check *find_check(struct tern_ice_agent *a,
                                const uint8_t *txid) {
  for (size_t i = 0; i < a->n_checks; i++)
    if (a->checks[i].sent &&
        memcmp(a->checks[i].txid, txid, TERN_STUN_TXID_LEN) == 0)
      return &a->checks[i];
  return NULL;
}

static bool is_consent_txid(const struct tern_ice_agent *a,
                            const uint8_t *txid) {
  unsigned n = a->consent_sent < CONSENT_TXIDS ? a->consent_sent : CONSENT_TXIDS;
  for (unsigned i = 0; i < n; i++)
    if (memcmp(a->consent_txid[i], txid, TERN_STUN_TXID_LEN) == 0)
      return true;
  return false;
}

static bool all_checks_failed(const struct tern_ice_agent *a) {
  for (size_t i = 0; i < a->n_checks; i++)
    if (!a->checks[i].failed)
      return false;
  return true;
}

static void handle_response(struct tern_ice_agent *a, const struct sockaddr *from,
                            const uint8_t *buf, size_t len,
                            const struct tern_stun_msg *m, uint64_t now) {
  struct check *c = NULL;
  const struct sockaddr *expect;

  if (a->state == TERN_ICE_CHECKING && (c = find_check(a, m->txid)))
    expect = (const struct sockaddr *)&c->addr;
  else if ((a->state == TERN_ICE_CONNECTED ||
            a->state == TERN_ICE_DISCONNECTED) &&
           is_consent_txid(a, m->txid))
    expect = (const struct sockaddr *)&a->selected;
  else {
    a->stats.unmatched++;
    return;
  }
  /* Responses must come back from where the request went (RFC 8445 §7.2.5.2.1). */
  if (!sockaddr_equal(from, expect)) {
    a->stats.unmatched++;
    return;
  }
  if (m->has_fingerprint && !m->fingerprint_ok) {
    a->stats.bad_fingerprint++;
    return;
  }
  if (!tern_stun_check_integrity(buf, len, m, a->remote_pwd,
                                 strlen(a->remote_pwd))) {
    a->stats.bad_integrity++;
    return;
  }
  if (m->cls == TERN_STUN_ERROR) {
    if (m->has_error_code && m->error_code == TERN_STUN_ERR_ROLE_CONFLICT)
      a->stats.role_conflicts++;
    /* We never switch roles or retry, so an error ends this check. Consent
     * errors simply do not refresh consent. */
    if (c) {
      c->failed = true;
      if (all_checks_failed(a))
        set_state(a, TERN_ICE_FAILED);
    }
    return;
  }
  a->stats.responses_ok++;
  a->last_consent_ms = now;
  if (c) {
    /* Aggressive nomination: the request carried USE-CANDIDATE, so its
     * success is the nomination. The first one wins. */
    a->next_consent_ms = now + jittered_consent_interval(a);
    select_addr(a, expect, true);
  }
  set_state(a, TERN_ICE_CONNECTED);
}

/* ---- entry points ---- */

void tern_ice_agent_start(struct tern_ice_agent *a, uint64_t now_ms) {
  if (!a || a->state != TERN_ICE_NEW)
    return;
  a->started_ms = now_ms;
  a->next_pace_ms = now_ms;
  set_state(a, TERN_ICE_CHECKING);
  if (a->role == TERN_ICE_ROLE_CONTROLLING && a->state == TERN_ICE_CHECKING)
    controlling_checking_timeout(a, now_ms);
}

void tern_ice_agent_input(struct tern_ice_agent *a, const struct sockaddr *from,
                          const uint8_t *buf, size_t len,
                          const struct tern_stun_msg *m, uint64_t now_ms) {
  if (!a || !from || !buf || !m || is_closed(a) ||
      m->method != TERN_STUN_METHOD_BINDING || m->length != len)
    return;
  if (from->sa_family != AF_INET && from->sa_family != AF_INET6)
    return;
  switch (m->cls) {
  case TERN_STUN_REQUEST:
    handle_request(a, from, buf, len, m, now_ms);
    break;
  case TERN_STUN_SUCCESS:
  case TERN_STUN_ERROR:
    if (a->role == TERN_ICE_ROLE_CONTROLLING)
      handle_response(a, from, buf, len, m, now_ms);
    else
      a->stats.unmatched++; /* the lite agent sends no requests */
    break;
  default:
    break; /* Binding indications are keepalives: nothing to do. */
  }
}

uint64_t tern_ice_agent_next_timeout(const struct tern_ice_agent *a) {
  uint64_t t = UINT64_MAX;

  if (!a)
    return t;
  if (a->role == TERN_ICE_ROLE_CONTROLLED_LITE) {
    if (a->state == TERN_ICE_CONNECTED)
      t = a->last_consent_ms + a->consent_timeout_ms;
    return t;
  }
  switch (a->state) {
  case TERN_ICE_CHECKING:
    t = a->started_ms + a->connect_timeout_ms;
    if (a->have_remote) {
      for (size_t i = 0; i < a->n_checks; i++) {
        const struct check *c = &a->checks[i];
        if (c->failed)
          continue;
        uint64_t due = c->sent ? c->next_tx_ms : 0;
        if (due < a->next_pace_ms)
          due = a->next_pace_ms;
        if (due < t)
          t = due;
      }
    }
    return t;
  case TERN_ICE_CONNECTED:
    t = a->last_consent_ms + a->consent_timeout_ms;
    return t < a->next_consent_ms ? t : a->next_consent_ms;
  case TERN_ICE_DISCONNECTED:
    return a->next_consent_ms;
  default:
    return t;
  }
}

void tern_ice_agent_handle_timeout(struct tern_ice_agent *a, uint64_t now_ms) {
  if (!a || is_closed(a))
    return;
  if (a->role == TERN_ICE_ROLE_CONTROLLED_LITE) {
    if (a->state == TERN_ICE_CONNECTED &&
        now_ms >= a->last_consent_ms + a->consent_timeout_ms)
      set_state(a, TERN_ICE_DISCONNECTED);
    return;
  }
  if (a->state == TERN_ICE_CHECKING)
    controlling_checking_timeout(a, now_ms);
  else if (a->state == TERN_ICE_CONNECTED ||
           a->state == TERN_ICE_DISCONNECTED)
    controlling_consent_timeout(a, now_ms);
}
