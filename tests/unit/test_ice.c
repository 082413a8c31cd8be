/* ICE agents back to back in memory: a controlling client and a lite server
 * exchange datagrams through a queue, with fake addresses and a fake clock
 * the test advances. Also feeds hand-made requests straight to a lite agent. */
#include "ice/ice.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "test.h"

enum { CLIENT = 0, SERVER = 1 };

struct dgram {
  int to;
  struct sockaddr_storage from;
  uint8_t buf[600];
  size_t len;
};

struct side {
  struct tern_ice_agent *agent;
  struct sockaddr_in addr;
  enum tern_ice_state states[64];
  uint64_t state_at[64];
  int n_states;
  int n_selected;
  struct sockaddr_storage selected;
  int close_on; /* close the agent from state_changed(close_on), if > 0 */
  int sent;
  uint64_t last_send_ms;
  uint64_t min_gap_ms; /* smallest gap between two sends while checking */
  struct net *net;
  int idx;
};

struct net {
  struct side side[2];
  struct dgram q[256];
  size_t head, tail;
  uint64_t now;
  bool drop[2];       /* drop datagrams going to this side */
  bool corrupt_mi[2]; /* flip a MESSAGE-INTEGRITY bit going to this side */
  bool spoof[2];      /* deliver to this side from another address */
  int misrouted;
};

static void mkaddr(struct sockaddr_in *a, const char *ip, uint16_t port) {
  memset(a, 0, sizeof(*a));
  a->sin_family = AF_INET;
  a->sin_port = htons(port);
  inet_pton(AF_INET, ip, &a->sin_addr);
}

static bool addr_eq(const struct sockaddr *x, const struct sockaddr_in *y) {
  const struct sockaddr_in *a = (const struct sockaddr_in *)x;
  return x && x->sa_family == AF_INET && a->sin_port == y->sin_port &&
         a->sin_addr.s_addr == y->sin_addr.s_addr;
}

static void cb_send(void *user, const struct sockaddr *to, const uint8_t *buf,
                    size_t len) {
  struct side *s = user;
  struct net *n = s->net;
  int dst = -1;
  for (int i = 0; i < 2; i++)
    if (addr_eq(to, &n->side[i].addr))
      dst = i;
  if (s->sent && n->now - s->last_send_ms < s->min_gap_ms &&
      tern_ice_agent_state(s->agent) == TERN_ICE_CHECKING)
    s->min_gap_ms = n->now - s->last_send_ms;
  s->sent++;
  s->last_send_ms = n->now;
  if (dst < 0) {
    n->misrouted++; /* e.g. a black-holed candidate */
    return;
  }
  if (n->tail - n->head == 256 || len > sizeof(n->q[0].buf))
    return;
  struct dgram *d = &n->q[n->tail++ % 256];
  d->to = dst;
  memset(&d->from, 0, sizeof(d->from));
  memcpy(&d->from, &s->addr, sizeof(s->addr));
  memcpy(d->buf, buf, len);
  d->len = len;
}

static void cb_state(void *user, enum tern_ice_state st) {
  struct side *s = user;
  if (s->n_states < 64) {
    s->state_at[s->n_states] = s->net->now;
    s->states[s->n_states++] = st;
  }
  if (s->close_on > 0 && (int)st == s->close_on)
    tern_ice_agent_close(s->agent);
}

static void cb_selected(void *user, const struct sockaddr *remote) {
  struct side *s = user;
  s->n_selected++;
  memcpy(&s->selected, remote, sizeof(struct sockaddr_in));
}

static const struct tern_ice_ops ops = {cb_send, cb_state, cb_selected};

static void net_init(struct net *n, const struct tern_ice_config *cfg) {
  memset(n, 0, sizeof(*n));
  n->now = 1000;
  mkaddr(&n->side[CLIENT].addr, "10.0.0.1", 5000);
  mkaddr(&n->side[SERVER].addr, "10.0.0.2", 6000);
  for (int i = 0; i < 2; i++) {
    n->side[i].net = n;
    n->side[i].idx = i;
    n->side[i].min_gap_ms = UINT64_MAX;
  }
  n->side[CLIENT].agent =
      tern_ice_agent_create(TERN_ICE_ROLE_CONTROLLING, cfg, &ops, &n->side[CLIENT]);
  n->side[SERVER].agent = tern_ice_agent_create(TERN_ICE_ROLE_CONTROLLED_LITE,
                                                cfg, &ops, &n->side[SERVER]);
}

static void net_free(struct net *n) {
  tern_ice_agent_destroy(n->side[CLIENT].agent);
  tern_ice_agent_destroy(n->side[SERVER].agent);
}

/* Offer/answer as the SDP would carry it. */
static void exchange(struct net *n, bool server_learns_client) {
  struct tern_ice_agent *c = n->side[CLIENT].agent, *s = n->side[SERVER].agent;
  CHECK_EQ_INT(tern_ice_agent_set_remote_credentials(
                   c, tern_ice_agent_local_ufrag(s), tern_ice_agent_local_pwd(s)),
               0);
  CHECK_EQ_INT(tern_ice_agent_add_remote_candidate(
                   c, (struct sockaddr *)&n->side[SERVER].addr, 2130706431),
               0);
  if (server_learns_client)
    CHECK_EQ_INT(tern_ice_agent_set_remote_credentials(
                     s, tern_ice_agent_local_ufrag(c),
                     tern_ice_agent_local_pwd(c)),
                 0);
}

static void deliver(struct net *n) {
  while (n->head != n->tail) {
    struct dgram *d = &n->q[n->head++ % 256];
    struct tern_stun_msg m;
    if (n->drop[d->to])
      continue;
    /* What the agents emit must always be well-formed STUN. */
    CHECK(tern_stun_is_stun(d->buf, d->len));
    if (tern_stun_parse(d->buf, d->len, &m) != 0) {
      CHECK(0);
      continue;
    }
    if (n->corrupt_mi[d->to] && m.has_integrity) {
      d->buf[m.integrity_offset + 4] ^= 1;
      /* Keep FINGERPRINT right so only the HMAC is wrong. */
      uint32_t c = tern_stun_crc32(d->buf, d->len - 8) ^ TERN_STUN_FINGERPRINT_XOR;
      for (int i = 0; i < 4; i++)
        d->buf[d->len - 4 + i] = (uint8_t)(c >> (24 - 8 * i));
      CHECK(tern_stun_parse(d->buf, d->len, &m) == 0);
    }
    if (n->spoof[d->to])
      ((struct sockaddr_in *)&d->from)->sin_port ^= 1;
    tern_ice_agent_input(n->side[d->to].agent, (struct sockaddr *)&d->from,
                         d->buf, d->len, &m, n->now);
  }
}

/* Runs both agents' timers and the network until `until` (absolute). */
static void run_until(struct net *n, uint64_t until) {
  for (int guard = 0; guard < 100000; guard++) {
    deliver(n);
    uint64_t t = UINT64_MAX;
    for (int i = 0; i < 2; i++) {
      uint64_t x = tern_ice_agent_next_timeout(n->side[i].agent);
      if (x < t)
        t = x;
    }
    if (t > until)
      break;
    if (t > n->now)
      n->now = t;
    for (int i = 0; i < 2; i++)
      if (tern_ice_agent_next_timeout(n->side[i].agent) <= n->now)
        tern_ice_agent_handle_timeout(n->side[i].agent, n->now);
  }
  deliver(n);
  if (until > n->now)
    n->now = until;
}

static void start(struct net *n) {
  tern_ice_agent_start(n->side[SERVER].agent, n->now);
  tern_ice_agent_start(n->side[CLIENT].agent, n->now);
}

static enum tern_ice_state state(struct net *n, int i) {
  return tern_ice_agent_state(n->side[i].agent);
}

static bool saw_state(const struct side *s, enum tern_ice_state st) {
  for (int i = 0; i < s->n_states; i++)
    if (s->states[i] == st)
      return true;
  return false;
}

static void test_state_names_and_credentials(void) {
  CHECK_EQ_STR(tern_ice_state_name(TERN_ICE_NEW), "new");
  CHECK_EQ_STR(tern_ice_state_name(TERN_ICE_CHECKING), "checking");
  CHECK_EQ_STR(tern_ice_state_name(TERN_ICE_CONNECTED), "connected");
  CHECK_EQ_STR(tern_ice_state_name(TERN_ICE_DISCONNECTED), "disconnected");
  CHECK_EQ_STR(tern_ice_state_name(TERN_ICE_FAILED), "failed");
  CHECK_EQ_STR(tern_ice_state_name(TERN_ICE_CLOSED), "closed");

  struct net n;
  net_init(&n, NULL);
  struct tern_ice_agent *c = n.side[CLIENT].agent, *s = n.side[SERVER].agent;
  REQUIRE(c && s);
  const char *u = tern_ice_agent_local_ufrag(s), *p = tern_ice_agent_local_pwd(s);
  CHECK_EQ_INT(strlen(u), 8);
  CHECK_EQ_INT(strlen(p), 24);
  CHECK(strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") == 24);
  CHECK(strcmp(u, tern_ice_agent_local_ufrag(c)) != 0);
  CHECK(strcmp(p, tern_ice_agent_local_pwd(c)) != 0);
  CHECK_EQ_INT(tern_ice_agent_state(s), TERN_ICE_NEW);
  CHECK(tern_ice_agent_selected(s) == NULL);
  CHECK_EQ_INT(tern_ice_agent_next_timeout(s), UINT64_MAX);

  CHECK_EQ_INT(tern_ice_agent_set_remote_credentials(c, "abc", p), -EINVAL);
  CHECK_EQ_INT(tern_ice_agent_set_remote_credentials(c, u, "tooshortpassword"), -EINVAL);
  CHECK_EQ_INT(tern_ice_agent_set_remote_credentials(c, "ab:cd", p), -EINVAL);
  struct sockaddr un = {.sa_family = AF_UNIX};
  CHECK_EQ_INT(tern_ice_agent_add_remote_candidate(c, &un, 1), -EAFNOSUPPORT);
  for (int i = 0; i < TERN_ICE_MAX_REMOTE_CANDIDATES; i++) {
    struct sockaddr_in a;
    mkaddr(&a, "10.9.9.9", (uint16_t)(1000 + i));
    CHECK_EQ_INT(tern_ice_agent_add_remote_candidate(c, (struct sockaddr *)&a, 1), 0);
    CHECK_EQ_INT(tern_ice_agent_add_remote_candidate(c, (struct sockaddr *)&a, 1), 0);
  }
  CHECK_EQ_INT(tern_ice_agent_add_remote_candidate(
                   c, (struct sockaddr *)&n.side[SERVER].addr, 1),
               -ENOSPC);
  net_free(&n);
}

static void check_connected(struct net *n) {
  struct side *c = &n->side[CLIENT], *s = &n->side[SERVER];
  CHECK_EQ_INT(state(n, CLIENT), TERN_ICE_CONNECTED);
  CHECK_EQ_INT(state(n, SERVER), TERN_ICE_CONNECTED);
  CHECK(addr_eq(tern_ice_agent_selected(c->agent), &s->addr));
  CHECK(addr_eq(tern_ice_agent_selected(s->agent), &c->addr));
  CHECK(addr_eq((struct sockaddr *)&c->selected, &s->addr));
  CHECK(addr_eq((struct sockaddr *)&s->selected, &c->addr));
  CHECK_EQ_INT(c->n_selected, 1);
  CHECK_EQ_INT(s->n_selected, 1);
}

static void test_connect(void) {
  struct net n;
  net_init(&n, NULL);
  exchange(&n, true);
  start(&n);
  run_until(&n, n.now + 500);
  check_connected(&n);
  struct side *c = &n.side[CLIENT], *s = &n.side[SERVER];
  REQUIRE(c->n_states == 2 && s->n_states == 2);
  CHECK_EQ_INT(c->states[0], TERN_ICE_CHECKING);
  CHECK_EQ_INT(c->states[1], TERN_ICE_CONNECTED);
  CHECK_EQ_INT(s->states[0], TERN_ICE_CHECKING);
  CHECK_EQ_INT(s->states[1], TERN_ICE_CONNECTED);
  const struct tern_ice_stats *ss = tern_ice_agent_stats(s->agent);
  CHECK_EQ_INT(ss->requests_ok, 1);
  CHECK_EQ_INT(ss->bad_integrity + ss->bad_username + ss->bad_fingerprint, 0);
  CHECK_EQ_INT(tern_ice_agent_stats(c->agent)->responses_ok, 1);

  /* A minute of consent checks keeps both connected. */
  run_until(&n, n.now + 60000);
  CHECK_EQ_INT(state(&n, CLIENT), TERN_ICE_CONNECTED);
  CHECK_EQ_INT(state(&n, SERVER), TERN_ICE_CONNECTED);
  CHECK_EQ_INT(c->n_states, 2);
  CHECK_EQ_INT(s->n_states, 2);
  /* every 4–6 s: 10 to 15 consent checks in 60 s */
  CHECK(ss->requests_ok >= 11 && ss->requests_ok <= 16);
  net_free(&n);
}

/* The browser's check can arrive before the server has the answer's
 * credentials: the local password suffices. */
static void test_connect_before_remote_credentials(void) {
  struct net n;
  net_init(&n, NULL);
  exchange(&n, false);
  tern_ice_agent_start(n.side[CLIENT].agent, n.now);
  run_until(&n, n.now + 500);
  check_connected(&n);
  net_free(&n);
}

static void expect_failed_after_timeout(struct net *n, bool server_connects) {
  uint64_t t0 = n->now;
  start(n);
  run_until(n, t0 + 9999);
  CHECK_EQ_INT(state(n, CLIENT), TERN_ICE_CHECKING);
  run_until(n, t0 + 10000);
  CHECK_EQ_INT(state(n, CLIENT), TERN_ICE_FAILED);
  CHECK(saw_state(&n->side[SERVER], TERN_ICE_CONNECTED) == server_connects);
  CHECK(!saw_state(&n->side[CLIENT], TERN_ICE_CONNECTED));
  CHECK(tern_ice_agent_selected(n->side[CLIENT].agent) == NULL);
  CHECK((tern_ice_agent_selected(n->side[SERVER].agent) != NULL) ==
        server_connects);
  CHECK_EQ_INT(tern_ice_agent_next_timeout(n->side[CLIENT].agent), UINT64_MAX);
  /* Retransmitted with back-off, paced: several, but far fewer than one per
   * 50 ms over 10 s. */
  int sent = n->side[CLIENT].sent;
  CHECK(sent >= 5 && sent <= 12);
  CHECK(n->side[CLIENT].min_gap_ms >= TERN_ICE_CHECK_PACE_MS);
  run_until(n, t0 + 30000);
  CHECK_EQ_INT(n->side[CLIENT].sent, sent); /* nothing after FAILED */
}

static void test_wrong_password_client(void) {
  struct net n;
  net_init(&n, NULL);
  struct tern_ice_agent *c = n.side[CLIENT].agent, *s = n.side[SERVER].agent;
  CHECK_EQ_INT(tern_ice_agent_set_remote_credentials(
                   c, tern_ice_agent_local_ufrag(s), "WrongWrongWrongWrongWrong"),
               0);
  tern_ice_agent_add_remote_candidate(c, (struct sockaddr *)&n.side[SERVER].addr, 1);
  expect_failed_after_timeout(&n, false);
  const struct tern_ice_stats *ss = tern_ice_agent_stats(s);
  CHECK(ss->bad_integrity >= 5);
  CHECK_EQ_INT(ss->requests_ok, 0);
  CHECK_EQ_INT(n.side[SERVER].sent, 0); /* dropped silently */
  net_free(&n);
}

/* The server expects another client's ufrag: USERNAME mismatch. */
static void test_wrong_credentials_server(void) {
  struct net n;
  net_init(&n, NULL);
  exchange(&n, false);
  CHECK_EQ_INT(tern_ice_agent_set_remote_credentials(
                   n.side[SERVER].agent, "someoneelse",
                   "abcdefghijklmnopqrstuvwxyz"),
               0);
  expect_failed_after_timeout(&n, false);
  const struct tern_ice_stats *ss = tern_ice_agent_stats(n.side[SERVER].agent);
  CHECK(ss->bad_username >= 5);
  CHECK_EQ_INT(n.side[SERVER].sent, 0);
  net_free(&n);
}

/* Responses whose HMAC does not verify with the remote password. */
static void test_forged_responses(void) {
  struct net n;
  net_init(&n, NULL);
  exchange(&n, true);
  n.corrupt_mi[CLIENT] = true;
  expect_failed_after_timeout(&n, true); /* the server did answer */
  CHECK(tern_ice_agent_stats(n.side[CLIENT].agent)->bad_integrity >= 5);
  CHECK_EQ_INT(tern_ice_agent_stats(n.side[CLIENT].agent)->responses_ok, 0);
  net_free(&n);

  /* Valid responses, but from an address the request did not go to. */
  net_init(&n, NULL);
  exchange(&n, true);
  n.spoof[CLIENT] = true;
  expect_failed_after_timeout(&n, true);
  CHECK(tern_ice_agent_stats(n.side[CLIENT].agent)->unmatched >= 5);
  CHECK_EQ_INT(tern_ice_agent_stats(n.side[CLIENT].agent)->responses_ok, 0);
  net_free(&n);
}

/* A higher-priority candidate that never answers: the client still connects
 * through the other, and the first transmission was retransmitted. */
static void test_dead_candidate(void) {
  struct net n;
  net_init(&n, NULL);
  struct sockaddr_in dead;
  mkaddr(&dead, "192.0.2.99", 9);
  tern_ice_agent_add_remote_candidate(n.side[CLIENT].agent,
                                      (struct sockaddr *)&dead, 0x7fffffff);
  exchange(&n, true);
  n.drop[SERVER] = true; /* lose the first checks */
  start(&n);
  run_until(&n, n.now + 300);
  CHECK_EQ_INT(state(&n, CLIENT), TERN_ICE_CHECKING);
  n.drop[SERVER] = false;
  run_until(&n, n.now + 3000);
  check_connected(&n);
  CHECK(n.misrouted >= 2);
  CHECK(n.side[CLIENT].min_gap_ms >= TERN_ICE_CHECK_PACE_MS);
  net_free(&n);
}

static void test_consent_timeout_and_recovery(void) {
  struct net n;
  net_init(&n, NULL);
  exchange(&n, true);
  start(&n);
  run_until(&n, n.now + 500);
  check_connected(&n);

  /* The path dies both ways. */
  n.drop[CLIENT] = n.drop[SERVER] = true;
  uint64_t t0 = n.now;
  run_until(&n, t0 + 9000);
  CHECK_EQ_INT(state(&n, SERVER), TERN_ICE_CONNECTED);
  CHECK_EQ_INT(state(&n, CLIENT), TERN_ICE_CONNECTED);
  run_until(&n, t0 + 16100);
  CHECK_EQ_INT(state(&n, SERVER), TERN_ICE_DISCONNECTED);
  CHECK_EQ_INT(state(&n, CLIENT), TERN_ICE_DISCONNECTED);

  /* It comes back: the next consent check restores both. */
  n.drop[CLIENT] = n.drop[SERVER] = false;
  run_until(&n, n.now + 6100);
  CHECK_EQ_INT(state(&n, SERVER), TERN_ICE_CONNECTED);
  CHECK_EQ_INT(state(&n, CLIENT), TERN_ICE_CONNECTED);
  for (int i = 0; i < 2; i++) {
    struct side *s = &n.side[i];
    REQUIRE(s->n_states == 4);
    CHECK_EQ_INT(s->states[2], TERN_ICE_DISCONNECTED);
    CHECK_EQ_INT(s->states[3], TERN_ICE_CONNECTED);
    CHECK_EQ_INT(s->n_selected, 1);
  }
  net_free(&n);
}

static void test_configured_timeouts(void) {
  struct tern_ice_config cfg = {.consent_timeout_ms = 2000,
                                .connect_timeout_ms = 1000};
  struct net n;
  net_init(&n, &cfg);
  exchange(&n, true);
  start(&n);
  run_until(&n, n.now + 5000); /* consent checks adapt to the short timeout */
  check_connected(&n);
  CHECK_EQ_INT(n.side[SERVER].n_states, 2);
  CHECK_EQ_INT(n.side[CLIENT].n_states, 2);
  n.drop[SERVER] = true;
  uint64_t t0 = n.now;
  run_until(&n, t0 + 3300);
  struct side *s = &n.side[SERVER];
  REQUIRE(s->n_states == 3);
  CHECK_EQ_INT(s->states[2], TERN_ICE_DISCONNECTED);
  /* exactly the timeout after the last request it answered */
  CHECK_EQ_INT(s->state_at[2], s->last_send_ms + 2000);
  CHECK_EQ_INT(state(&n, CLIENT), TERN_ICE_DISCONNECTED);
  net_free(&n);

  net_init(&n, &cfg);
  exchange(&n, true);
  n.drop[SERVER] = true;
  t0 = n.now;
  start(&n);
  run_until(&n, t0 + 999);
  CHECK_EQ_INT(state(&n, CLIENT), TERN_ICE_CHECKING);
  run_until(&n, t0 + 1000);
  CHECK_EQ_INT(state(&n, CLIENT), TERN_ICE_FAILED);
  net_free(&n);
}

static void test_close(void) {
  struct net n;
  net_init(&n, NULL);
  exchange(&n, true);
  start(&n);
  run_until(&n, n.now + 500);
  check_connected(&n);
  int sent_c = n.side[CLIENT].sent, sent_s = n.side[SERVER].sent;
  int states_c = n.side[CLIENT].n_states;
  /* One consent check in flight to the server when the client closes. */
  run_until(&n, tern_ice_agent_next_timeout(n.side[CLIENT].agent) - 1);
  tern_ice_agent_handle_timeout(n.side[CLIENT].agent,
                                tern_ice_agent_next_timeout(n.side[CLIENT].agent));
  CHECK_EQ_INT(n.side[CLIENT].sent, sent_c + 1);
  sent_c++;
  tern_ice_agent_close(n.side[CLIENT].agent);
  tern_ice_agent_close(n.side[SERVER].agent);
  CHECK_EQ_INT(state(&n, CLIENT), TERN_ICE_CLOSED);
  CHECK_EQ_INT(state(&n, SERVER), TERN_ICE_CLOSED);
  run_until(&n, n.now + 60000); /* delivers the in-flight request */
  for (int i = 0; i < 2; i++)
    tern_ice_agent_handle_timeout(n.side[i].agent, n.now + 100000);
  tern_ice_agent_start(n.side[CLIENT].agent, n.now);
  CHECK_EQ_INT(n.side[CLIENT].sent, sent_c);
  CHECK_EQ_INT(n.side[SERVER].sent, sent_s);
  CHECK_EQ_INT(n.side[CLIENT].n_states, states_c); /* close fires no event */
  CHECK_EQ_INT(tern_ice_agent_next_timeout(n.side[CLIENT].agent), UINT64_MAX);
  net_free(&n);
}

/* A callback may close the agent: the consent check that would follow the
 * DISCONNECTED event in the same call is not sent. */
static void test_close_from_callback(void) {
  struct net n;
  net_init(&n, NULL);
  exchange(&n, true);
  start(&n);
  run_until(&n, n.now + 500);
  check_connected(&n);
  n.side[CLIENT].close_on = TERN_ICE_DISCONNECTED;
  /* A minute later both the consent deadline and a consent send are due in
   * the same call; DISCONNECTED comes first and its callback closes. */
  int sent = n.side[CLIENT].sent;
  tern_ice_agent_handle_timeout(n.side[CLIENT].agent, n.now + 60000);
  REQUIRE(n.side[CLIENT].n_states == 3);
  CHECK_EQ_INT(n.side[CLIENT].states[2], TERN_ICE_DISCONNECTED);
  CHECK_EQ_INT(state(&n, CLIENT), TERN_ICE_CLOSED);
  CHECK_EQ_INT(n.side[CLIENT].sent, sent);
  net_free(&n);
}

/* ---- a lite agent fed by hand ---- */

struct req_opts {
  const char *user; /* NULL: no USERNAME */
  const char *key;  /* NULL: no MESSAGE-INTEGRITY */
  bool fingerprint;
  bool use_candidate;
  bool controlled; /* ICE-CONTROLLED instead of ICE-CONTROLLING */
  uint16_t retype_software; /* non-zero: add SOFTWARE, then give it this type */
};

static const uint8_t TXID[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

static int make_req(uint8_t *buf, size_t cap, const struct req_opts *o) {
  struct tern_stun_writer w;
  tern_stun_writer_begin(&w, buf, cap, TERN_STUN_BINDING_REQUEST, TXID);
  if (o->user)
    tern_stun_add_username(&w, o->user, strlen(o->user));
  if (o->retype_software) {
    size_t at = w.len;
    tern_stun_add_software(&w, "test");
    buf[at] = (uint8_t)(o->retype_software >> 8);
    buf[at + 1] = (uint8_t)o->retype_software;
  }
  tern_stun_add_priority(&w, 1);
  if (o->controlled)
    tern_stun_add_ice_controlled(&w, 42);
  else
    tern_stun_add_ice_controlling(&w, 42);
  if (o->use_candidate)
    tern_stun_add_use_candidate(&w);
  return tern_stun_writer_finish(&w, o->key, o->key ? strlen(o->key) : 0,
                                 o->fingerprint);
}

struct lite {
  struct net net; /* only for the send callback's clock and queue */
  char user[64];
  const char *pwd;
};

static void lite_init(struct lite *l) {
  net_init(&l->net, NULL);
  tern_ice_agent_destroy(l->net.side[CLIENT].agent);
  l->net.side[CLIENT].agent = NULL;
  struct tern_ice_agent *s = l->net.side[SERVER].agent;
  snprintf(l->user, sizeof(l->user), "%s:peer", tern_ice_agent_local_ufrag(s));
  l->pwd = tern_ice_agent_local_pwd(s);
  tern_ice_agent_start(s, l->net.now);
}

/* Feeds one request from `from`; returns the server's reply, parsed into
 * *resp, or 0 if it sent nothing. */
static int lite_feed(struct lite *l, const struct req_opts *o,
                     const struct sockaddr_in *from, struct tern_stun_msg *resp,
                     uint8_t *out) {
  uint8_t b[600];
  struct tern_stun_msg m;
  int n = make_req(b, sizeof(b), o);
  if (n <= 0 || tern_stun_parse(b, (size_t)n, &m) != 0)
    return -1;
  size_t before = l->net.tail;
  struct side *s = &l->net.side[SERVER];
  tern_ice_agent_input(s->agent, (const struct sockaddr *)from, b, (size_t)n,
                       &m, l->net.now);
  if (l->net.tail == before)
    return 0;
  /* The reply went to `from`; our queue only routes to known sides, so
   * replies land in the queue only when from == the client's address. */
  struct dgram *d = &l->net.q[before % 256];
  memcpy(out, d->buf, d->len);
  l->net.head = l->net.tail;
  if (tern_stun_parse(out, d->len, resp) != 0)
    return -1;
  return (int)d->len;
}

static void test_lite_drops_bad_requests(void) {
  struct lite l;
  lite_init(&l);
  struct tern_ice_agent *s = l.net.side[SERVER].agent;
  const struct sockaddr_in *from = &l.net.side[CLIENT].addr;
  const struct tern_ice_stats *st = tern_ice_agent_stats(s);
  struct tern_stun_msg r;
  uint8_t out[600];
  char wrong_user[64];
  snprintf(wrong_user, sizeof(wrong_user), "nobody12:%s", "peer");

  struct req_opts bad_key = {l.user, "xxxxxxxxxxxxxxxxxxxxxxxx", true, true, false, 0};
  struct req_opts no_mi = {l.user, NULL, true, true, false, 0};
  struct req_opts no_fp = {l.user, l.pwd, false, true, false, 0};
  struct req_opts bad_user = {wrong_user, l.pwd, true, true, false, 0};
  struct req_opts no_user = {NULL, l.pwd, true, true, false, 0};
  struct req_opts no_colon = {tern_ice_agent_local_ufrag(s), l.pwd, true, true, false, 0};

  CHECK_EQ_INT(lite_feed(&l, &bad_key, from, &r, out), 0);
  CHECK_EQ_INT(lite_feed(&l, &no_mi, from, &r, out), 0);
  CHECK_EQ_INT(st->bad_integrity, 2);
  CHECK_EQ_INT(lite_feed(&l, &no_fp, from, &r, out), 0);
  CHECK_EQ_INT(st->bad_fingerprint, 1);
  CHECK_EQ_INT(lite_feed(&l, &bad_user, from, &r, out), 0);
  CHECK_EQ_INT(lite_feed(&l, &no_user, from, &r, out), 0);
  CHECK_EQ_INT(lite_feed(&l, &no_colon, from, &r, out), 0);
  CHECK_EQ_INT(st->bad_username, 3);

  /* A valid request with a wrong FINGERPRINT. */
  uint8_t b[600];
  struct tern_stun_msg m;
  struct req_opts good = {l.user, l.pwd, true, false, false, 0};
  int n = make_req(b, sizeof(b), &good);
  b[n - 1] ^= 1;
  REQUIRE(tern_stun_parse(b, (size_t)n, &m) == 0);
  tern_ice_agent_input(s, (const struct sockaddr *)from, b, (size_t)n, &m, l.net.now);
  CHECK_EQ_INT(st->bad_fingerprint, 2);
  /* A parsed struct that does not describe buf is refused. */
  b[n - 1] ^= 1;
  REQUIRE(tern_stun_parse(b, (size_t)n, &m) == 0);
  tern_ice_agent_input(s, (const struct sockaddr *)from, b, (size_t)n - 4, &m, l.net.now);

  CHECK_EQ_INT(l.net.side[SERVER].sent, 0);
  CHECK_EQ_INT(st->requests_ok, 0);
  CHECK_EQ_INT(tern_ice_agent_state(s), TERN_ICE_CHECKING);
  CHECK(tern_ice_agent_selected(s) == NULL);

  /* The valid one is answered: success, same txid, XOR-MAPPED-ADDRESS = the
   * source, MESSAGE-INTEGRITY with the server's password, FINGERPRINT. */
  int len = lite_feed(&l, &good, from, &r, out);
  REQUIRE(len > 0);
  CHECK_EQ_INT(r.type, TERN_STUN_BINDING_SUCCESS);
  CHECK(memcmp(r.txid, TXID, 12) == 0);
  CHECK(r.has_xor_mapped_address &&
        addr_eq((struct sockaddr *)&r.xor_mapped_address, from));
  CHECK(tern_stun_check_integrity(out, (size_t)len, &r, l.pwd, strlen(l.pwd)));
  CHECK(r.has_fingerprint && r.fingerprint_ok);
  CHECK_EQ_INT(st->requests_ok, 1);
  CHECK_EQ_INT(tern_ice_agent_state(s), TERN_ICE_CONNECTED);
  net_free(&l.net);
}

static void test_lite_role_conflict_and_unknown(void) {
  struct lite l;
  lite_init(&l);
  struct tern_ice_agent *s = l.net.side[SERVER].agent;
  const struct sockaddr_in *from = &l.net.side[CLIENT].addr;
  struct tern_stun_msg r;
  uint8_t out[600];

  struct req_opts conflict = {l.user, l.pwd, true, true, true, 0};
  int len = lite_feed(&l, &conflict, from, &r, out);
  REQUIRE(len > 0);
  CHECK_EQ_INT(r.type, TERN_STUN_BINDING_ERROR);
  CHECK(r.has_error_code && r.error_code == 487);
  CHECK(tern_stun_check_integrity(out, (size_t)len, &r, l.pwd, strlen(l.pwd)));
  CHECK_EQ_INT(tern_ice_agent_stats(s)->role_conflicts, 1);

  struct req_opts unknown = {l.user, l.pwd, true, true, false, 0x0031};
  len = lite_feed(&l, &unknown, from, &r, out);
  REQUIRE(len > 0);
  CHECK(r.has_error_code && r.error_code == 420);
  CHECK_EQ_INT(tern_ice_agent_stats(s)->unknown_attributes, 1);
  /* An unknown comprehension-optional attribute is fine. */
  struct req_opts optional = {l.user, l.pwd, true, false, false, 0xC057};
  len = lite_feed(&l, &optional, from, &r, out);
  REQUIRE(len > 0);
  CHECK_EQ_INT(r.type, TERN_STUN_BINDING_SUCCESS);

  CHECK_EQ_INT(tern_ice_agent_stats(s)->requests_ok, 1);
  CHECK_EQ_INT(tern_ice_agent_state(s), TERN_ICE_CONNECTED);
  net_free(&l.net);
}

/* Provisional selection, nomination moving it, and consent only from the
 * selected address. */
static void test_lite_nomination(void) {
  struct lite l;
  lite_init(&l);
  struct tern_ice_agent *s = l.net.side[SERVER].agent;
  struct side *sd = &l.net.side[SERVER];
  struct sockaddr_in a, b;
  mkaddr(&a, "10.0.0.1", 5000); /* the client's address: replies routable */
  mkaddr(&b, "10.0.0.3", 7000);
  struct tern_stun_msg r;
  uint8_t out[600];
  struct req_opts plain = {l.user, l.pwd, true, false, false, 0};
  struct req_opts nominate = {l.user, l.pwd, true, true, false, 0};

  lite_feed(&l, &plain, &a, &r, out);
  CHECK(addr_eq(tern_ice_agent_selected(s), &a));
  CHECK_EQ_INT(sd->n_selected, 1);
  CHECK_EQ_INT(tern_ice_agent_state(s), TERN_ICE_CONNECTED);
  lite_feed(&l, &plain, &b, &r, out);
  CHECK(addr_eq(tern_ice_agent_selected(s), &a)); /* not nominated: no move */
  lite_feed(&l, &nominate, &b, &r, out);
  CHECK(addr_eq(tern_ice_agent_selected(s), &b));
  CHECK_EQ_INT(sd->n_selected, 2);
  lite_feed(&l, &plain, &a, &r, out);
  CHECK(addr_eq(tern_ice_agent_selected(s), &b)); /* nominated sticks */
  lite_feed(&l, &nominate, &b, &r, out);
  CHECK_EQ_INT(sd->n_selected, 2); /* same address: no callback */
  CHECK_EQ_INT(tern_ice_agent_stats(s)->requests_ok, 5);

  /* Only B refreshes consent: A keeps checking, B goes quiet. */
  uint64_t last_b = l.net.now;
  CHECK_EQ_INT(tern_ice_agent_next_timeout(s), last_b + 10000);
  for (int i = 1; i <= 12; i++) {
    l.net.now = last_b + 1000 * (uint64_t)i;
    lite_feed(&l, &plain, &a, &r, out);
    tern_ice_agent_handle_timeout(s, l.net.now);
    CHECK_EQ_INT(tern_ice_agent_state(s),
                 i < 10 ? TERN_ICE_CONNECTED : TERN_ICE_DISCONNECTED);
  }
  lite_feed(&l, &plain, &b, &r, out);
  CHECK_EQ_INT(tern_ice_agent_state(s), TERN_ICE_CONNECTED);
  REQUIRE(sd->n_states == 4);
  CHECK_EQ_INT(sd->states[2], TERN_ICE_DISCONNECTED);
  CHECK_EQ_INT(sd->states[3], TERN_ICE_CONNECTED);
  net_free(&l.net);
}

int main(void) {
  RUN(test_state_names_and_credentials);
  RUN(test_connect);
  RUN(test_connect_before_remote_credentials);
  RUN(test_wrong_password_client);
  RUN(test_wrong_credentials_server);
  RUN(test_forged_responses);
  RUN(test_dead_candidate);
  RUN(test_consent_timeout_and_recovery);
  RUN(test_configured_timeouts);
  RUN(test_close);
  RUN(test_close_from_callback);
  RUN(test_lite_drops_bad_requests);
  RUN(test_lite_role_conflict_and_unknown);
  RUN(test_lite_nomination);
  return TEST_RESULT();
}
