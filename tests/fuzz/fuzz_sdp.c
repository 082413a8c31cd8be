/* fuzz_sdp — the SDP parser and writer (src/sdp/) on arbitrary text.
 *
 * Every offer a browser or a hostile client sends over /connect or the REST
 * API goes through tern_sdp_parse first. Properties checked besides the
 * sanitizers:
 *   - on error, the reason is a non-empty NUL-terminated string, also with
 *     a tiny error buffer;
 *   - what parses can be written (no -EINVAL/-ENOSPC on a parsed model) and
 *     the written text parses again;
 *   - round trip, as sdp.h promises: when nothing was dropped and every
 *     m-line has a c= address, parse(write(parse(x))) is memcmp-equal to
 *     parse(x); and writing is a fixed point: write(parse(write(y))) ==
 *     write(y) byte for byte;
 *   - the writer refuses a buffer one byte too small with -ENOSPC.
 */
#include <errno.h>

#include "fuzz.h"
#include "sdp/sdp.h"

static struct tern_sdp *a, *b;
static char out1[1 << 20], out2[1 << 20];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[256], tiny[8];

  if (!a && (!(a = malloc(sizeof *a)) || !(b = malloc(sizeof *b))))
    abort();
  int rc = tern_sdp_parse((const char *)data, size, a, err, sizeof err);
  if (rc < 0) {
    FUZZ_ASSERT(rc == -EINVAL || rc == -E2BIG, "parse returned %d", rc);
    FUZZ_ASSERT(memchr(err, '\0', sizeof err) && err[0], "empty error reason");
    /* The same error with a small buffer and with none. */
    FUZZ_ASSERT(tern_sdp_parse((const char *)data, size, b, tiny, sizeof tiny) == rc &&
                    memchr(tiny, '\0', sizeof tiny),
                "error with a small buffer");
    FUZZ_ASSERT(tern_sdp_parse((const char *)data, size, b, NULL, 0) == rc,
                "error without a buffer");
    return 0;
  }
  FUZZ_ASSERT(rc == 0, "parse returned %d", rc);
  FUZZ_ASSERT(a->media_count >= 1 && a->media_count <= TERN_SDP_MAX_MEDIA,
              "media_count %u", a->media_count);

  int n = tern_sdp_write(a, out1, sizeof out1);
  FUZZ_ASSERT(n > 0, "cannot write what parsed: %d", n);
  FUZZ_ASSERT((size_t)n == strlen(out1), "length vs NUL");
  FUZZ_ASSERT(tern_sdp_write(a, out2, (size_t)n) == -ENOSPC, "no -ENOSPC one byte short");

  /* Exact-size copy: the parser must not rely on the NUL. */
  char *copy = (char *)fuzz_dup((const uint8_t *)out1, (size_t)n);
  rc = tern_sdp_parse(copy, (size_t)n, b, err, sizeof err);
  free(copy);
  FUZZ_ASSERT(rc == 0, "written SDP does not parse again: %s\n%s", err, out1);

  /* Without any c= the writer adds "c=IN IP4 0.0.0.0" (RFC 8866 needs
   * one), which then parses: not equal, by design. */
  bool has_c = true;
  for (unsigned i = 0; i < a->media_count; i++)
    if (!a->c_addr[0] && !a->media[i].c_addr[0])
      has_c = false;
  struct tern_sdp_dropped none = {0};
  if (has_c && memcmp(&a->dropped, &none, sizeof none) == 0)
    FUZZ_ASSERT(memcmp(a, b, sizeof *a) == 0, "parse(write(x)) != x\n%s", out1);

  int m = tern_sdp_write(b, out2, sizeof out2);
  FUZZ_ASSERT(m == n && memcmp(out1, out2, (size_t)n) == 0,
              "write is not a fixed point\n--- first\n%s--- second\n%s", out1, out2);
  return 0;
}
