/* fuzz.h — small helpers shared by the libFuzzer targets in tests/fuzz/.
 *
 * Every target defines LLVMFuzzerTestOneInput and is linked with
 * -fsanitize=fuzzer,address,undefined against the clang-built library of
 * src/ (see the fuzz block in the Makefile and docs/fuzzing.md).
 *
 * FUZZ_ASSERT aborts with a message: libFuzzer then saves the input as a
 * crash artifact. Use it for properties (round trips, invariants) that the
 * sanitizers cannot see by themselves.
 *
 * struct fuzz_in is a cursor over the input for structure-aware targets:
 * reads past the end return zeros, so a short input is still a valid
 * (if dull) program.
 */
#ifndef TERN_FUZZ_H
#define TERN_FUZZ_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond, ...)                                                 \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: FUZZ_ASSERT(%s) failed: ", __FILE__, __LINE__,   \
              #cond);                                                          \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
      abort();                                                                 \
    }                                                                          \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_in {
  const uint8_t *p;
  size_t left;
};

static inline uint8_t fuzz_u8(struct fuzz_in *in) {
  if (!in->left)
    return 0;
  in->left--;
  return *in->p++;
}

static inline uint16_t fuzz_u16(struct fuzz_in *in) {
  uint16_t hi = fuzz_u8(in);
  return (uint16_t)(hi << 8 | fuzz_u8(in));
}

static inline uint32_t fuzz_u32(struct fuzz_in *in) {
  uint32_t hi = fuzz_u16(in);
  return hi << 16 | fuzz_u16(in);
}

/* Takes up to n bytes; *got says how many there were. */
static inline const uint8_t *fuzz_bytes(struct fuzz_in *in, size_t n,
                                        size_t *got) {
  const uint8_t *p = in->p;
  if (n > in->left)
    n = in->left;
  in->p += n;
  in->left -= n;
  *got = n;
  return p;
}

/* An exact-size heap copy, so AddressSanitizer flags any read past the end
 * (libFuzzer's own buffer is exact-size too, but targets that carve the
 * input into several messages need their own copies). */
static inline uint8_t *fuzz_dup(const uint8_t *p, size_t n) {
  uint8_t *d = malloc(n ? n : 1);
  if (d && n)
    memcpy(d, p, n);
  return d;
}

#endif
