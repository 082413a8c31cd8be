/* fuzz_transport_demux — the UDP demultiplexer (src/net/transport.c): what
 * runs for every datagram arriving on the media port, from anyone.
 *
 * A real transport is bound to 127.0.0.1:0 on a libuv loop (never run: the
 * harness calls tern_transport_dispatch, the receive path without the
 * socket). Two fake endpoints are registered, as two peers would be:
 *   A: ufrag "fuzzufrg", bound to 192.0.2.1:50000, all handlers;
 *   B: ufrag "peerBufr", bound to [2001:db8::2]:50001, no RTP handler.
 * Input: byte 0 picks the source address (A's, B's, or unknown v4/v6), the
 * rest is the datagram, copied to an exact-size buffer.
 *
 * Properties checked besides the sanitizers:
 *   - every datagram is counted once in packets_in and either reaches
 *     exactly one handler or increments exactly one drop counter;
 *   - STUN requests reach the endpoint whose ufrag is USERNAME's first part,
 *     other STUN and DTLS/RTP only the endpoint bound to the source address;
 *   - handlers get the datagram itself (same pointer, same length), already
 *     parsed for STUN, classified by RFC 7983 first-byte ranges; the RTP
 *     handler may write the whole buffer (decryption in place).
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "fuzz.h"
#include "ice/stun.h"
#include "net/transport.h"

enum { EP_A, EP_B, N_EP };

struct fake {
  struct tern_transport_endpoint ep;
  unsigned stun, dtls, rtp;
};

static uv_loop_t loop;
static struct tern_transport t;
static struct fake fakes[N_EP];
static struct sockaddr_storage from_addrs[4];
static const uint8_t *cur_buf;
static size_t cur_len;
static const struct sockaddr *cur_from;

static void check_call(const struct sockaddr *from, const uint8_t *buf, size_t len) {
  FUZZ_ASSERT(from == cur_from && buf == cur_buf && len == cur_len,
              "handler got another datagram");
}

static bool same_addr(const struct sockaddr *a, const struct sockaddr_storage *b) {
  return tern_addr_equal(a, (const struct sockaddr *)b);
}

static void on_stun(void *user, const struct sockaddr *from, const uint8_t *buf, size_t len,
                    const struct tern_stun_msg *msg) {
  struct fake *f = user;
  check_call(from, buf, len);
  FUZZ_ASSERT(buf[0] <= 3 && msg && msg->length == len, "STUN classification");
  if (msg->type == TERN_STUN_BINDING_REQUEST) {
    char ufrag[64];
    FUZZ_ASSERT(tern_stun_username_local(msg, ufrag, sizeof ufrag) > 0, "no ufrag");
    FUZZ_ASSERT(strcmp(ufrag, f == &fakes[EP_A] ? "fuzzufrg" : "peerBufr") == 0,
                "request for %s reached the wrong endpoint", ufrag);
  } else {
    FUZZ_ASSERT(same_addr(from, &from_addrs[f == &fakes[EP_A] ? 0 : 1]),
                "STUN non-request routed by a foreign address");
  }
  f->stun++;
}

static void on_dtls(void *user, const struct sockaddr *from, const uint8_t *buf, size_t len) {
  struct fake *f = user;
  check_call(from, buf, len);
  FUZZ_ASSERT(buf[0] >= 20 && buf[0] <= 63, "DTLS range");
  FUZZ_ASSERT(same_addr(from, &from_addrs[f == &fakes[EP_A] ? 0 : 1]), "DTLS routing");
  f->dtls++;
}

static void on_rtp(void *user, const struct sockaddr *from, uint8_t *buf, size_t len) {
  struct fake *f = user;
  check_call(from, buf, len);
  FUZZ_ASSERT(buf[0] >= 128 && buf[0] <= 191, "RTP range");
  FUZZ_ASSERT(f == &fakes[EP_A] && same_addr(from, &from_addrs[0]), "RTP routing");
  memset(buf, 0xA5, len); /* as an in-place SRTP unprotect may */
  f->rtp++;
}

static const struct tern_transport_handler full = {on_stun, on_dtls, on_rtp};
static const struct tern_transport_handler no_rtp = {on_stun, on_dtls, NULL};

static void set_addr(struct sockaddr_storage *ss, const char *ip, uint16_t port) {
  memset(ss, 0, sizeof *ss);
  if (strchr(ip, ':')) {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    inet_pton(AF_INET6, ip, &in6->sin6_addr);
  } else {
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    inet_pton(AF_INET, ip, &in->sin_addr);
  }
}

static void setup(void) {
  FUZZ_ASSERT(uv_loop_init(&loop) == 0, "loop");
  int rc = tern_transport_init(&t, &loop, "127.0.0.1", 0);
  FUZZ_ASSERT(rc == 0, "transport_init: %s", uv_strerror(rc));
  set_addr(&from_addrs[0], "192.0.2.1", 50000);
  set_addr(&from_addrs[1], "2001:db8::2", 50001);
  set_addr(&from_addrs[2], "192.0.2.1", 50002); /* A's host, another port */
  set_addr(&from_addrs[3], "2001:db8::3", 50001);
  fakes[EP_A].ep = (struct tern_transport_endpoint){&full, &fakes[EP_A]};
  fakes[EP_B].ep = (struct tern_transport_endpoint){&no_rtp, &fakes[EP_B]};
  FUZZ_ASSERT(tern_transport_add_ufrag(&t, "fuzzufrg", &fakes[EP_A].ep) == 0 &&
                  tern_transport_add_ufrag(&t, "peerBufr", &fakes[EP_B].ep) == 0 &&
                  tern_transport_bind_addr(&t, (struct sockaddr *)&from_addrs[0],
                                           &fakes[EP_A].ep) == 0 &&
                  tern_transport_bind_addr(&t, (struct sockaddr *)&from_addrs[1],
                                           &fakes[EP_B].ep) == 0,
              "registering the endpoints");
}

static uint64_t total_drops(void) {
  uint64_t n = 0;
  for (int i = 0; i < TERN_DROP__COUNT; i++)
    n += t.stats.drops[i];
  return n;
}

static unsigned total_calls(void) {
  unsigned n = 0;
  for (int i = 0; i < N_EP; i++)
    n += fakes[i].stun + fakes[i].dtls + fakes[i].rtp;
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!t.loop)
    setup();
  /* The receive callback never passes an empty datagram (nread <= 0 is
   * filtered before dispatch), so neither do we. */
  if (size < 2)
    return 0;
  const struct sockaddr *from = (const struct sockaddr *)&from_addrs[data[0] & 3];
  uint8_t *buf = fuzz_dup(data + 1, size - 1);
  uint64_t packets = t.stats.packets_in, drops = total_drops();
  unsigned calls = total_calls(), rtp_to_b = fakes[EP_B].rtp;

  cur_buf = buf;
  cur_len = size - 1;
  cur_from = from;
  tern_transport_dispatch(&t, from, buf, size - 1);

  FUZZ_ASSERT(t.stats.packets_in == packets + 1, "packets_in");
  uint64_t dd = total_drops() - drops;
  unsigned dc = total_calls() - calls;
  /* B has no RTP handler: RTP from B's address is silently consumed. */
  bool silent = (data[0] & 3) == 1 && data[1] >= 128 && data[1] <= 191 && !dc && !dd;
  FUZZ_ASSERT(dd + dc == 1 || silent, "%llu drops and %u handler calls for one datagram",
              (unsigned long long)dd, dc);
  FUZZ_ASSERT(fakes[EP_B].rtp == rtp_to_b, "RTP to an endpoint without a handler");
  free(buf);
  return 0;
}
