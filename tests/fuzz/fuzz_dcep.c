/* fuzz_dcep — the DCEP codec (src/sctp/dcep.c) on arbitrary SCTP messages
 * with PPID 50, as a remote peer can send on any stream.
 *
 * Properties checked besides the sanitizers:
 *   - type/decode_ack/decode_open agree on the first byte;
 *   - a decoded OPEN's label and protocol lie inside the message;
 *   - round trip: encode(decode(x)) reproduces the first open_size bytes of
 *     x (except the reliability parameter of a reliable channel, which the
 *     encoder writes as 0, RFC 8832 §5.1), decodes to the same fields, and
 *     the encoder refuses a buffer one byte short with -ENOSPC.
 */
#include <errno.h>

#include "fuzz.h"
#include "sctp/dcep.h"

static bool same(const struct tern_dcep_open *a, const struct tern_dcep_open *b) {
  return a->ordered == b->ordered && a->reliability == b->reliability &&
         a->priority == b->priority && a->label_len == b->label_len &&
         a->protocol_len == b->protocol_len &&
         memcmp(a->label, b->label, a->label_len) == 0 &&
         memcmp(a->protocol, b->protocol, a->protocol_len) == 0 &&
         (a->reliability == TERN_DCEP_RELIABLE || a->reliability_param == b->reliability_param);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct tern_dcep_open o, o2;
  int type = tern_dcep_type(data, size);

  FUZZ_ASSERT(size ? type == data[0] : type == -EPROTO, "type %d", type);
  int ack = tern_dcep_decode_ack(data, size);
  FUZZ_ASSERT((ack == 0) == (type == TERN_DCEP_ACK), "ack %d type %d", ack, type);

  if (tern_dcep_decode_open(data, size, &o) < 0)
    return 0;
  FUZZ_ASSERT(type == TERN_DCEP_OPEN, "OPEN decoded from type %d", type);
  const uint8_t *lab = (const uint8_t *)o.label, *pro = (const uint8_t *)o.protocol;
  FUZZ_ASSERT(lab == data + TERN_DCEP_OPEN_HEADER && pro == lab + o.label_len, "pointers");
  size_t n = tern_dcep_open_size(&o);
  FUZZ_ASSERT(n <= size, "open_size %zu > %zu", n, size);

  uint8_t *out = malloc(n);
  FUZZ_ASSERT(out, "malloc");
  FUZZ_ASSERT(tern_dcep_encode_open(&o, out, n - 1) == -ENOSPC, "no -ENOSPC");
  FUZZ_ASSERT(tern_dcep_encode_open(&o, out, n) == (int)n, "encode size");
  for (size_t i = 0; i < n; i++) {
    bool param = i >= 4 && i < 8;
    if (param && o.reliability == TERN_DCEP_RELIABLE)
      FUZZ_ASSERT(out[i] == 0, "reliable channel with a parameter");
    else
      FUZZ_ASSERT(out[i] == data[i], "byte %zu differs", i);
  }
  FUZZ_ASSERT(tern_dcep_decode_open(out, n, &o2) == 0 && same(&o, &o2), "re-decode");
  free(out);

  uint8_t a[1];
  FUZZ_ASSERT(tern_dcep_encode_ack(a, 0) == -ENOSPC, "ack cap 0");
  FUZZ_ASSERT(tern_dcep_encode_ack(a, 1) == 1 && tern_dcep_decode_ack(a, 1) == 0, "ack");
  return 0;
}
