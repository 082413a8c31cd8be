/* fuzz_stun — the STUN reader (src/ice/stun.c) on arbitrary datagrams.
 *
 * Every datagram whose first byte is 0..3 reaches tern_stun_is_stun and
 * tern_stun_parse from any address on the internet, before anything is
 * authenticated, and the ICE agent then runs check_integrity and the
 * USERNAME split on what parsed. Beyond "no crash, no leak", the target
 * checks properties:
 *   - parse accepts only what is_stun accepts, and records the length;
 *   - pointers into the message stay inside it;
 *   - username_local / username_split agree, for every output capacity;
 *   - writer round trip: the fields we understand, written back with the
 *     writer (MESSAGE-INTEGRITY + FINGERPRINT added), parse to the same
 *     values and the integrity checks with the key used.
 * The key is the RFC 5769 password, so the seed vectors' MESSAGE-INTEGRITY
 * is valid and mutations start from an authenticated message.
 */
#include <netinet/in.h>

#include "fuzz.h"
#include "ice/stun.h"

static const char KEY[] = "VOkJxbRl1RmTxUk/WvJxBt";

static bool inside(const uint8_t *p, size_t n, const uint8_t *buf, size_t len) {
  return p >= buf && n <= len && (size_t)(p - buf) <= len - n;
}

static bool addr_eq(const struct sockaddr_storage *a,
                    const struct sockaddr_storage *b) {
  if (a->ss_family != b->ss_family)
    return false;
  if (a->ss_family == AF_INET) {
    const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
  return x->sin6_port == y->sin6_port &&
         memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
}

static void check_username(const struct tern_stun_msg *m, const uint8_t *buf,
                           size_t len) {
  const uint8_t *l = NULL, *r = NULL;
  size_t ll = 0, rl = 0;
  int split = tern_stun_username_split(m, &l, &ll, &r, &rl);
  char out[600];

  if (m->username)
    FUZZ_ASSERT(inside(m->username, m->username_len, buf, len), "USERNAME");
  if (split == 0) {
    FUZZ_ASSERT(ll + 1 + rl == m->username_len, "split lengths %zu+1+%zu != %zu",
                ll, rl, m->username_len);
    FUZZ_ASSERT(l == m->username && r == l + ll + 1, "split pointers");
  }
  /* Every capacity around the boundary, as callers size buffers freely. */
  for (size_t cap = 0; cap <= sizeof out; cap = cap < 40 ? cap + 1 : cap * 2) {
    if (cap > sizeof out)
      cap = sizeof out;
    int n = tern_stun_username_local(m, cap ? out : NULL, cap);
    if (split < 0) {
      FUZZ_ASSERT(n == split, "username_local %d vs split %d", n, split);
    } else if (ll + 1 > cap) {
      FUZZ_ASSERT(n == -ENOSPC, "cap %zu len %zu: %d", cap, ll, n);
    } else {
      FUZZ_ASSERT(n == (int)ll && memcmp(out, l, ll) == 0 && out[ll] == '\0',
                  "username_local copy");
    }
    if (cap == sizeof out)
      break;
  }
}

/* Writes the understood fields back and parses them again. */
static void round_trip(const struct tern_stun_msg *m) {
  static uint8_t out[70000];
  struct tern_stun_writer w;
  char reason[800];
  bool reason_has_nul = false;

  tern_stun_writer_begin(&w, out, sizeof out, m->type, m->txid);
  if (m->username)
    tern_stun_add_username(&w, (const char *)m->username, m->username_len);
  if (m->has_priority)
    tern_stun_add_priority(&w, m->priority);
  if (m->use_candidate)
    tern_stun_add_use_candidate(&w);
  if (m->has_ice_controlling)
    tern_stun_add_ice_controlling(&w, m->ice_controlling);
  if (m->has_ice_controlled)
    tern_stun_add_ice_controlled(&w, m->ice_controlled);
  if (m->has_xor_mapped_address)
    tern_stun_add_xor_mapped_address(&w, (const struct sockaddr *)&m->xor_mapped_address);
  if (m->has_error_code) {
    FUZZ_ASSERT(m->error_reason_len < sizeof reason, "reason length");
    memcpy(reason, m->error_reason, m->error_reason_len);
    reason[m->error_reason_len] = '\0';
    reason_has_nul = strlen(reason) != m->error_reason_len;
    tern_stun_add_error_code(&w, m->error_code, reason);
  }
  int n = tern_stun_writer_finish(&w, KEY, sizeof KEY - 1, true);
  /* The original fit in 16 bits of length; ours adds at most 32 bytes of
   * MESSAGE-INTEGRITY + FINGERPRINT, which may tip it over. */
  if (n == -ENOSPC && m->length + 32 > 0xFFFF + TERN_STUN_HEADER_LEN)
    return;
  FUZZ_ASSERT(n > 0, "writer failed: %d", n);

  uint8_t *copy = fuzz_dup(out, (size_t)n);
  struct tern_stun_msg b;
  FUZZ_ASSERT(tern_stun_parse(copy, (size_t)n, &b) == 0, "re-parse failed");
  FUZZ_ASSERT(b.type == m->type && memcmp(b.txid, m->txid, sizeof b.txid) == 0,
              "header");
  FUZZ_ASSERT(b.username_len == m->username_len &&
                  (!m->username || memcmp(b.username, m->username, b.username_len) == 0),
              "USERNAME");
  FUZZ_ASSERT(b.has_priority == m->has_priority && b.priority == m->priority, "PRIORITY");
  FUZZ_ASSERT(b.use_candidate == m->use_candidate, "USE-CANDIDATE");
  FUZZ_ASSERT(b.has_ice_controlling == m->has_ice_controlling &&
                  b.ice_controlling == m->ice_controlling,
              "ICE-CONTROLLING");
  FUZZ_ASSERT(b.has_ice_controlled == m->has_ice_controlled &&
                  b.ice_controlled == m->ice_controlled,
              "ICE-CONTROLLED");
  FUZZ_ASSERT(b.has_xor_mapped_address == m->has_xor_mapped_address &&
                  (!b.has_xor_mapped_address ||
                   addr_eq(&b.xor_mapped_address, &m->xor_mapped_address)),
              "XOR-MAPPED-ADDRESS");
  FUZZ_ASSERT(b.has_error_code == m->has_error_code && b.error_code == m->error_code,
              "ERROR-CODE");
  if (m->has_error_code && !reason_has_nul)
    FUZZ_ASSERT(b.error_reason_len == m->error_reason_len &&
                    memcmp(b.error_reason, m->error_reason, b.error_reason_len) == 0,
                "ERROR-CODE reason");
  FUZZ_ASSERT(b.has_integrity && b.has_fingerprint && b.fingerprint_ok, "seal");
  FUZZ_ASSERT(b.n_unknown == 0, "writer produced unknown attributes");
  FUZZ_ASSERT(tern_stun_check_integrity(copy, (size_t)n, &b, KEY, sizeof KEY - 1),
              "own MESSAGE-INTEGRITY does not verify");
  FUZZ_ASSERT(!tern_stun_check_integrity(copy, (size_t)n, &b, "x", 1),
              "MESSAGE-INTEGRITY verifies with the wrong key");
  free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct tern_stun_msg m;
  bool is = tern_stun_is_stun(data, size);
  int rc = tern_stun_parse(data, size, &m);

  FUZZ_ASSERT(rc == 0 || rc == -EPROTO, "parse returned %d", rc);
  if (rc < 0)
    return 0;
  FUZZ_ASSERT(is, "parse accepted what is_stun rejects");
  FUZZ_ASSERT(m.length == size, "length %zu != %zu", m.length, size);
  FUZZ_ASSERT(m.cls <= 3 && m.method <= 0xFFF, "class/method");
  FUZZ_ASSERT(tern_stun_type(m.method, m.cls) == m.type, "type bits");
  FUZZ_ASSERT(m.n_unknown <= TERN_STUN_MAX_UNKNOWN, "n_unknown");
  if (m.has_error_code) {
    FUZZ_ASSERT(m.error_code >= 300 && m.error_code <= 699, "error code %u",
                m.error_code);
    FUZZ_ASSERT(inside(m.error_reason, m.error_reason_len, data, size), "reason");
  }
  if (m.has_integrity)
    FUZZ_ASSERT(m.integrity_offset >= TERN_STUN_HEADER_LEN &&
                    m.integrity_offset + 24 <= size,
                "integrity offset");
  check_username(&m, data, size);

  /* As the agent calls it: the RFC 5769 key, a wrong key, an empty key. */
  bool ok = tern_stun_check_integrity(data, size, &m, KEY, sizeof KEY - 1);
  FUZZ_ASSERT(!ok || m.has_integrity, "integrity without MESSAGE-INTEGRITY");
  FUZZ_ASSERT(!tern_stun_check_integrity(data, size, &m, KEY, 0), "empty key");
  /* A message parsed from a shorter buffer must not verify here. */
  if (size > TERN_STUN_HEADER_LEN)
    FUZZ_ASSERT(!tern_stun_check_integrity(data, size - 4, &m, KEY, sizeof KEY - 1),
                "integrity with a length that is not the parsed one");

  round_trip(&m);
  return 0;
}
