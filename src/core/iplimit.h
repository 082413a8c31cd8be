/* iplimit — how many peers each client address holds (MAX_PEERS_PER_IP).
 *
 * One table per server, shared by the REST examples and Beep: a client that
 * opens peer after peer from one address gets 429 / WebSocket 1013 at the
 * limit instead of taking the whole MAX_PEERS budget. Addresses are the
 * HTTP client's, as text ("1.2.3.4", "::1"); they are stored as 16-byte
 * IPv6 (IPv4-mapped) so both spellings of one address count together. */
#ifndef TERN_IPLIMIT_H
#define TERN_IPLIMIT_H

#include <stdbool.h>

#include "core/hashmap.h"

struct tern_iplimit {
  struct tern_hashmap counts; /* key: 16-byte address, value: count as a pointer */
  unsigned max;               /* 0 = no limit */
};

int tern_iplimit_init(struct tern_iplimit *l, unsigned max);
void tern_iplimit_free(struct tern_iplimit *l);
/* Takes one slot for addr: 0, or -EAGAIN at the limit (-EINVAL for a string
 * that is no IP address: such callers are counted under one shared key). */
int tern_iplimit_acquire(struct tern_iplimit *l, const char *addr);
void tern_iplimit_release(struct tern_iplimit *l, const char *addr);
unsigned tern_iplimit_count(const struct tern_iplimit *l, const char *addr);

#endif
