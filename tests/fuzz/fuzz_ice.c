/* fuzz_ice — an ICE agent (src/ice/ice.c) fed a fuzzer-written script of
 * datagrams, clock steps and control calls.
 *
 * Raw datagrams alone would almost never get past FINGERPRINT, USERNAME and
 * MESSAGE-INTEGRITY (the agent's ufrag and password are random), so the
 * script can also ask the harness to *build* a Binding request or response
 * from fuzzer-chosen fields and seal it with the right, a wrong or no key:
 * that drives the authenticated paths (nomination, role conflicts, 420s,
 * consent, controlling-role transactions) as a browser would.
 *
 * Input: one flags byte (bit 0: controlling role instead of lite; bit 1: set
 * the remote credentials first; bit 2: add the remote candidates; bit 3:
 * start the agent), then records, each an op byte and its operands (see
 * run_op). Properties checked besides the sanitizers:
 *   - everything the agent sends parses as STUN with a valid FINGERPRINT,
 *     goes to an IPv4/IPv6 address, and nothing is sent after close;
 *   - responses are signed with the agent's password (lite) and requests
 *     with the remote password (controlling);
 *   - the selected address is always one the datagrams came from or a
 *     candidate we added, and the lite agent never reaches FAILED.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "fuzz.h"
#include "ice/ice.h"

#define N_ADDRS 5
#define REMOTE_UFRAG "rmtU"
#define REMOTE_PWD "remotePasswordRemotePw1"

struct harness {
  struct tern_ice_agent *agent;
  enum tern_ice_role role;
  struct sockaddr_storage addrs[N_ADDRS];
  char remote_pwd[257];
  bool closed;
  uint8_t last_txid[TERN_STUN_TXID_LEN]; /* of the last request we saw sent */
  bool have_txid;
  unsigned sends, states;
};

static void set_v4(struct sockaddr_storage *ss, const char *ip, uint16_t port) {
  struct sockaddr_in *in = (struct sockaddr_in *)ss;
  memset(ss, 0, sizeof *ss);
  in->sin_family = AF_INET;
  in->sin_port = htons(port);
  inet_pton(AF_INET, ip, &in->sin_addr);
}

static void set_v6(struct sockaddr_storage *ss, const char *ip, uint16_t port) {
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
  memset(ss, 0, sizeof *ss);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(port);
  inet_pton(AF_INET6, ip, &in6->sin6_addr);
}

static bool known_addr(const struct harness *h, const struct sockaddr *sa) {
  for (int i = 0; i < N_ADDRS; i++) {
    const struct sockaddr_storage *a = &h->addrs[i];
    if (a->ss_family != sa->sa_family)
      continue;
    if (sa->sa_family == AF_INET &&
        memcmp(a, sa, sizeof(struct sockaddr_in)) == 0)
      return true;
    if (sa->sa_family == AF_INET6 &&
        memcmp(a, sa, sizeof(struct sockaddr_in6)) == 0)
      return true;
  }
  return false;
}

static void on_send(void *user, const struct sockaddr *to, const uint8_t *buf,
                    size_t len) {
  struct harness *h = user;
  struct tern_stun_msg m;
  uint8_t *copy = fuzz_dup(buf, len);

  h->sends++;
  FUZZ_ASSERT(!h->closed, "sent after close");
  FUZZ_ASSERT(to && (to->sa_family == AF_INET || to->sa_family == AF_INET6),
              "send to family %d", to ? to->sa_family : -1);
  FUZZ_ASSERT(known_addr(h, to), "send to an address nobody used");
  FUZZ_ASSERT(tern_stun_parse(copy, len, &m) == 0, "agent sent unparsable STUN");
  FUZZ_ASSERT(m.has_fingerprint && m.fingerprint_ok && m.has_integrity,
              "agent sent an unsealed message");
  if (m.cls == TERN_STUN_REQUEST) {
    FUZZ_ASSERT(h->role == TERN_ICE_ROLE_CONTROLLING, "lite agent sent a request");
    FUZZ_ASSERT(tern_stun_check_integrity(copy, len, &m, h->remote_pwd,
                                          strlen(h->remote_pwd)),
                "request not signed with the remote password");
    memcpy(h->last_txid, m.txid, sizeof h->last_txid);
    h->have_txid = true;
  } else {
    const char *pwd = tern_ice_agent_local_pwd(h->agent);
    FUZZ_ASSERT(tern_stun_check_integrity(copy, len, &m, pwd, strlen(pwd)),
                "response not signed with our password");
  }
  free(copy);
}

static void on_state(void *user, enum tern_ice_state s) {
  struct harness *h = user;
  h->states++;
  FUZZ_ASSERT(!h->closed, "state_changed after close");
  FUZZ_ASSERT(s != TERN_ICE_CLOSED, "state_changed(CLOSED)");
  if (h->role == TERN_ICE_ROLE_CONTROLLED_LITE)
    FUZZ_ASSERT(s != TERN_ICE_FAILED, "lite agent went FAILED");
}

static void on_selected(void *user, const struct sockaddr *remote) {
  struct harness *h = user;
  FUZZ_ASSERT(!h->closed, "selected after close");
  FUZZ_ASSERT(remote && known_addr(h, remote), "selected an unknown address");
}

static const struct tern_ice_ops ops = {on_send, on_state, on_selected};

static void deliver(struct harness *h, const struct sockaddr *from,
                    const uint8_t *buf, size_t len, uint64_t now) {
  struct tern_stun_msg m;
  uint8_t *copy = fuzz_dup(buf, len);
  /* As the transport does: only what parses reaches the agent. */
  if (tern_stun_is_stun(copy, len) && tern_stun_parse(copy, len, &m) == 0)
    tern_ice_agent_input(h->agent, from, copy, len, &m, now);
  free(copy);
}

/* Builds a Binding request or response from fuzzer-chosen fields. */
static size_t build(struct harness *h, struct fuzz_in *in, bool request,
                    uint8_t *out, size_t cap) {
  uint16_t f = fuzz_u16(in);
  uint32_t prio = fuzz_u32(in);
  uint64_t tb = (uint64_t)fuzz_u32(in) << 32 | fuzz_u32(in);
  uint8_t txid[TERN_STUN_TXID_LEN];
  size_t got;
  const uint8_t *t = fuzz_bytes(in, sizeof txid, &got);
  struct tern_stun_writer w;
  char user[600];
  const char *lu = tern_ice_agent_local_ufrag(h->agent);

  memset(txid, 0, sizeof txid);
  memcpy(txid, t, got);
  if (!request && (f & 0x8000) && h->have_txid)
    memcpy(txid, h->last_txid, sizeof txid); /* answer the agent's check */
  uint16_t type = request ? TERN_STUN_BINDING_REQUEST
                  : (f & 0x4000) ? TERN_STUN_BINDING_ERROR
                                 : TERN_STUN_BINDING_SUCCESS;
  if ((f & 0x0700) == 0x0700)
    type = TERN_STUN_BINDING_INDICATION;
  tern_stun_writer_begin(&w, out, cap, type, txid);
  switch (f & 7) { /* USERNAME */
  case 0: case 1: case 2: /* right: "<ours>:<theirs>" */
    snprintf(user, sizeof user, "%s:%s", lu, REMOTE_UFRAG);
    break;
  case 3: snprintf(user, sizeof user, "%s:other", lu); break;
  case 4: snprintf(user, sizeof user, "abcd:%s", REMOTE_UFRAG); break;
  case 5: snprintf(user, sizeof user, "%s", lu); break; /* no colon */
  case 6: snprintf(user, sizeof user, "%s:", lu); break;
  default: user[0] = '\0'; break;                      /* absent */
  }
  if (user[0])
    tern_stun_add_username(&w, user, strlen(user));
  if (f & 0x08)
    tern_stun_add_priority(&w, prio);
  if (f & 0x10)
    tern_stun_add_use_candidate(&w);
  if (f & 0x20)
    tern_stun_add_ice_controlling(&w, tb);
  if (f & 0x40)
    tern_stun_add_ice_controlled(&w, tb);
  if ((f & 0x80) && !w.err && w.cap - w.len >= 8) {
    /* An unknown comprehension-required attribute (the writer has no API
     * for one, so append it by hand): a request carrying it gets a 420. */
    uint8_t *p = w.buf + w.len;
    p[0] = 0x00, p[1] = (uint8_t)(0x30 | (prio & 0x0F)), p[2] = 0, p[3] = 4;
    memcpy(p + 4, &prio, 4);
    w.len += 8;
  }
  if (!request) {
    if (type == TERN_STUN_BINDING_ERROR)
      tern_stun_add_error_code(&w, (uint16_t)(300 + prio % 400), "fuzz");
    else if (f & 0x800)
      tern_stun_add_xor_mapped_address(&w, (const struct sockaddr *)&h->addrs[prio % N_ADDRS]);
  }
  /* Key: ours (lite requests), theirs (controlling responses), wrong, none. */
  const char *key;
  switch ((f >> 12) & 3) {
  case 0: case 1:
    key = request ? tern_ice_agent_local_pwd(h->agent) : h->remote_pwd;
    break;
  case 2: key = "wrongPasswordWrongPassword"; break;
  default: key = NULL; break;
  }
  int n = tern_stun_writer_finish(&w, key, key ? strlen(key) : 0, !(f & 0x200));
  if (n <= 0)
    return 0;
  if ((f & 0x0300) == 0x0100) /* corrupt the FINGERPRINT */
    out[n - 1] ^= 1;
  return (size_t)n;
}

static void run_op(struct harness *h, struct fuzz_in *in, uint64_t *now) {
  uint8_t op = fuzz_u8(in);
  const struct sockaddr *from =
      (const struct sockaddr *)&h->addrs[(op >> 4) % N_ADDRS];
  uint8_t buf[1600];
  size_t len, got;

  switch (op & 7) {
  case 0: { /* raw datagram */
    len = fuzz_u16(in) % 1500;
    const uint8_t *p = fuzz_bytes(in, len, &got);
    deliver(h, from, p, got, *now);
    break;
  }
  case 1: case 2: /* built request */
    if ((len = build(h, in, true, buf, sizeof buf)))
      deliver(h, from, buf, len, *now);
    break;
  case 3: /* built response */
    if ((len = build(h, in, false, buf, sizeof buf)))
      deliver(h, from, buf, len, *now);
    break;
  case 4: case 5: /* time passes */
    *now += (uint64_t)fuzz_u16(in) * ((op & 0x80) ? 100 : 1);
    tern_ice_agent_handle_timeout(h->agent, *now);
    break;
  case 6: /* the next timeout exactly */ {
    uint64_t t = tern_ice_agent_next_timeout(h->agent);
    if (t != UINT64_MAX && t > *now)
      *now = t;
    tern_ice_agent_handle_timeout(h->agent, *now);
    break;
  }
  default: /* control calls */
    switch ((op >> 4) & 7) {
    case 0: case 1: {
      char u[300], p[300];
      size_t ul = fuzz_u8(in), pl = fuzz_u16(in) % 300;
      const uint8_t *s = fuzz_bytes(in, ul < sizeof u - 1 ? ul : sizeof u - 1, &got);
      memcpy(u, s, got);
      u[got] = '\0';
      s = fuzz_bytes(in, pl < sizeof p - 1 ? pl : sizeof p - 1, &got);
      memcpy(p, s, got);
      p[got] = '\0';
      if (tern_ice_agent_set_remote_credentials(h->agent, u, p) == 0)
        strcpy(h->remote_pwd, p);
      break;
    }
    case 2:
      tern_ice_agent_add_remote_candidate(h->agent, from, fuzz_u32(in));
      break;
    case 3:
      tern_ice_agent_start(h->agent, *now);
      break;
    case 4:
      if (fuzz_u8(in) == 0xCC) {
        tern_ice_agent_close(h->agent);
        h->closed = true;
      }
      break;
    default: {
      const struct sockaddr *sel = tern_ice_agent_selected(h->agent);
      FUZZ_ASSERT(!sel || known_addr(h, sel), "selected getter");
      break;
    }
    }
    break;
  }
  enum tern_ice_state s = tern_ice_agent_state(h->agent);
  FUZZ_ASSERT(s >= TERN_ICE_NEW && s <= TERN_ICE_CLOSED, "state %d", s);
  if (h->closed)
    FUZZ_ASSERT(s == TERN_ICE_CLOSED, "closed agent in state %d", s);
  if (h->role == TERN_ICE_ROLE_CONTROLLED_LITE && s != TERN_ICE_CONNECTED)
    FUZZ_ASSERT(tern_ice_agent_next_timeout(h->agent) == UINT64_MAX,
                "lite agent with a timer while not connected");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct fuzz_in in = {data, size};
  struct harness h;
  uint8_t flags = fuzz_u8(&in);
  uint64_t now = 1000;
  struct tern_ice_config cfg = {0};

  memset(&h, 0, sizeof h);
  set_v4(&h.addrs[0], "192.0.2.1", 50000);
  set_v4(&h.addrs[1], "192.0.2.2", 50001);
  set_v6(&h.addrs[2], "2001:db8::1", 50002);
  set_v4(&h.addrs[3], "192.0.2.1", 50003); /* same host, other port */
  h.addrs[4].ss_family = AF_UNSPEC;        /* never accepted */
  strcpy(h.remote_pwd, REMOTE_PWD);
  h.role = (flags & 1) ? TERN_ICE_ROLE_CONTROLLING : TERN_ICE_ROLE_CONTROLLED_LITE;
  if (flags & 0x10)
    cfg.consent_timeout_ms = 1 + (flags >> 5) * 700;
  if (flags & 0x20)
    cfg.connect_timeout_ms = 1 + (flags >> 6) * 3000;
  h.agent = tern_ice_agent_create(h.role, &cfg, &ops, &h);
  if (!h.agent)
    return 0;
  if (flags & 2)
    FUZZ_ASSERT(tern_ice_agent_set_remote_credentials(h.agent, REMOTE_UFRAG, REMOTE_PWD) == 0,
                "fixed credentials refused");
  if (flags & 4)
    for (int i = 0; i < N_ADDRS; i++)
      tern_ice_agent_add_remote_candidate(h.agent, (const struct sockaddr *)&h.addrs[i],
                                          (uint32_t)(100 + i));
  if (flags & 8)
    tern_ice_agent_start(h.agent, now);
  for (int ops_left = 256; in.left && ops_left; ops_left--)
    run_op(&h, &in, &now);
  if (getenv("FUZZ_ICE_DEBUG")) { /* to see what a seed reaches */
    const struct tern_ice_stats *st = tern_ice_agent_stats(h.agent);
    fprintf(stderr,
            "role %d state %s sends %u states %u | req_ok %llu bad_int %llu bad_user %llu "
            "bad_fp %llu conflicts %llu unknown %llu resp_ok %llu unmatched %llu\n",
            h.role, tern_ice_state_name(tern_ice_agent_state(h.agent)), h.sends, h.states,
            (unsigned long long)st->requests_ok, (unsigned long long)st->bad_integrity,
            (unsigned long long)st->bad_username, (unsigned long long)st->bad_fingerprint,
            (unsigned long long)st->role_conflicts, (unsigned long long)st->unknown_attributes,
            (unsigned long long)st->responses_ok, (unsigned long long)st->unmatched);
  }
  tern_ice_agent_destroy(h.agent);
  return 0;
}
