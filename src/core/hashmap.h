/* hashmap — open-addressing map from short byte keys to pointers.
 *
 * Used by the media transport to find a peer by ICE ufrag or by remote
 * address on every datagram, so lookups allocate nothing and probe a flat
 * array. Keys are copied (at most TERN_HASHMAP_MAX_KEY bytes). The hash is
 * seeded per map from the OS RNG: the keys come from the network, and a fixed
 * hash would let a client aim collisions at one bucket.
 *
 * Not thread-safe; one map belongs to one loop.
 */
#ifndef TERN_HASHMAP_H
#define TERN_HASHMAP_H

#include <stddef.h>
#include <stdint.h>

#define TERN_HASHMAP_MAX_KEY 32

struct tern_hashmap_slot {
  uint8_t state; /* 0 empty, 1 used, 2 deleted */
  uint8_t key_len;
  uint8_t key[TERN_HASHMAP_MAX_KEY];
  void *value;
};

struct tern_hashmap {
  struct tern_hashmap_slot *slots;
  size_t cap;  /* power of two */
  size_t used; /* live entries */
  size_t dead; /* tombstones */
  uint64_t seed;
};

int tern_hashmap_init(struct tern_hashmap *m);
void tern_hashmap_free(struct tern_hashmap *m);
/* Inserts or replaces. -EINVAL for an oversized key, -ENOMEM. */
int tern_hashmap_put(struct tern_hashmap *m, const void *key, size_t len, void *value);
void *tern_hashmap_get(const struct tern_hashmap *m, const void *key, size_t len);
/* Returns the removed value or NULL. */
void *tern_hashmap_del(struct tern_hashmap *m, const void *key, size_t len);

#endif
