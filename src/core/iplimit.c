#include "core/iplimit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

int tern_iplimit_init(struct tern_iplimit *l, unsigned max) {
  l->max = max;
  return tern_hashmap_init(&l->counts);
}

void tern_iplimit_free(struct tern_iplimit *l) { tern_hashmap_free(&l->counts); }

/* An address as 16 bytes; anything unparsable shares the all-zero key, so a
 * broken address cannot escape the limit. */
static void key_of(const char *addr, uint8_t key[16]) {
  struct in_addr v4;
  memset(key, 0, 16);
  if (addr && inet_pton(AF_INET, addr, &v4) == 1) {
    key[10] = key[11] = 0xff;
    memcpy(key + 12, &v4, 4);
  } else if (!addr || inet_pton(AF_INET6, addr, key) != 1) {
    memset(key, 0, 16);
  }
}

unsigned tern_iplimit_count(const struct tern_iplimit *l, const char *addr) {
  uint8_t key[16];
  key_of(addr, key);
  return (unsigned)(uintptr_t)tern_hashmap_get(&l->counts, key, sizeof key);
}

int tern_iplimit_acquire(struct tern_iplimit *l, const char *addr) {
  uint8_t key[16];
  key_of(addr, key);
  uintptr_t n = (uintptr_t)tern_hashmap_get(&l->counts, key, sizeof key);
  if (l->max && n >= l->max)
    return -EAGAIN;
  return tern_hashmap_put(&l->counts, key, sizeof key, (void *)(n + 1));
}

void tern_iplimit_release(struct tern_iplimit *l, const char *addr) {
  uint8_t key[16];
  key_of(addr, key);
  uintptr_t n = (uintptr_t)tern_hashmap_get(&l->counts, key, sizeof key);
  if (n <= 1)
    tern_hashmap_del(&l->counts, key, sizeof key); /* keeps the table small */
  else
    tern_hashmap_put(&l->counts, key, sizeof key, (void *)(n - 1));
}
