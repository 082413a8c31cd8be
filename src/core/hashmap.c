#include "core/hashmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

enum { SLOT_EMPTY = 0, SLOT_USED = 1, SLOT_DEAD = 2 };

/* A seeded 64-bit FNV-1a with a final avalanche (from splitmix64): cheap for
 * the 8–28 byte keys used here, and the seed keeps the layout unpredictable. */
static uint64_t hash_bytes(uint64_t seed, const uint8_t *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL ^ seed;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

int tern_hashmap_init(struct tern_hashmap *m) {
  memset(m, 0, sizeof *m);
  m->cap = 16;
  m->slots = calloc(m->cap, sizeof *m->slots);
  if (!m->slots)
    return -ENOMEM;
  if (getrandom(&m->seed, sizeof m->seed, 0) != sizeof m->seed)
    m->seed = (uint64_t)(uintptr_t)m ^ 0x9e3779b97f4a7c15ULL;
  return 0;
}

void tern_hashmap_free(struct tern_hashmap *m) {
  free(m->slots);
  m->slots = NULL;
  m->cap = m->used = m->dead = 0;
}

static struct tern_hashmap_slot *find(const struct tern_hashmap *m, const void *key,
                                      size_t len) {
  size_t mask = m->cap - 1;
  size_t i = hash_bytes(m->seed, key, len) & mask;
  for (size_t n = 0; n < m->cap; n++, i = (i + 1) & mask) {
    struct tern_hashmap_slot *s = &m->slots[i];
    if (s->state == SLOT_EMPTY)
      return NULL;
    if (s->state == SLOT_USED && s->key_len == len && memcmp(s->key, key, len) == 0)
      return s;
  }
  return NULL;
}

static int grow(struct tern_hashmap *m, size_t new_cap) {
  struct tern_hashmap_slot *old = m->slots;
  size_t old_cap = m->cap;
  struct tern_hashmap_slot *slots = calloc(new_cap, sizeof *slots);
  if (!slots)
    return -ENOMEM;
  m->slots = slots;
  m->cap = new_cap;
  m->used = m->dead = 0;
  for (size_t i = 0; i < old_cap; i++)
    if (old[i].state == SLOT_USED)
      tern_hashmap_put(m, old[i].key, old[i].key_len, old[i].value);
  free(old);
  return 0;
}

int tern_hashmap_put(struct tern_hashmap *m, const void *key, size_t len, void *value) {
  if (len > TERN_HASHMAP_MAX_KEY)
    return -EINVAL;
  struct tern_hashmap_slot *s = find(m, key, len);
  if (s) {
    s->value = value;
    return 0;
  }
  /* Keep the load (live + tombstones) under 3/4 so probes stay short. */
  if ((m->used + m->dead + 1) * 4 > m->cap * 3) {
    size_t cap = (m->used + 1) * 4 > m->cap * 2 ? m->cap * 2 : m->cap;
    int rc = grow(m, cap);
    if (rc)
      return rc;
  }
  size_t mask = m->cap - 1;
  size_t i = hash_bytes(m->seed, key, len) & mask;
  while (m->slots[i].state == SLOT_USED)
    i = (i + 1) & mask;
  s = &m->slots[i];
  if (s->state == SLOT_DEAD)
    m->dead--;
  s->state = SLOT_USED;
  s->key_len = (uint8_t)len;
  memcpy(s->key, key, len);
  s->value = value;
  m->used++;
  return 0;
}

void *tern_hashmap_get(const struct tern_hashmap *m, const void *key, size_t len) {
  if (len > TERN_HASHMAP_MAX_KEY)
    return NULL;
  struct tern_hashmap_slot *s = find(m, key, len);
  return s ? s->value : NULL;
}

void *tern_hashmap_del(struct tern_hashmap *m, const void *key, size_t len) {
  if (len > TERN_HASHMAP_MAX_KEY)
    return NULL;
  struct tern_hashmap_slot *s = find(m, key, len);
  if (!s)
    return NULL;
  void *v = s->value;
  s->state = SLOT_DEAD;
  s->value = NULL;
  m->used--;
  m->dead++;
  return v;
}
