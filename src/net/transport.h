/* transport — the one UDP socket that carries every peer's media.
 *
 * Each datagram is classified by its first byte (RFC 7983 §7: 0–3 STUN,
 * 20–63 DTLS, 128–191 RTP/RTCP) and handed to the owning endpoint (a peer):
 * STUN requests are found by the local ICE ufrag in USERNAME — the only thing
 * a not-yet-known client can prove — and everything else by the source
 * address, which a peer binds once that address has passed an ICE check.
 * Unknown or unclassifiable datagrams are dropped and counted, never logged
 * one by one.
 *
 * Lifetime: endpoints belong to their peers; a peer must remove its ufrag and
 * addresses (tern_transport_forget) before it is freed. The transport owns
 * its uv_udp_t; tern_transport_close() needs one loop iteration to finish.
 */
#ifndef TERN_TRANSPORT_H
#define TERN_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "core/hashmap.h"

struct tern_stun_msg;

struct tern_transport_handler {
  void (*stun)(void *user, const struct sockaddr *from, const uint8_t *buf,
               size_t len, const struct tern_stun_msg *msg);
  void (*dtls)(void *user, const struct sockaddr *from, const uint8_t *buf,
               size_t len);
  /* SRTP and SRTCP; the buffer may be decrypted in place. */
  void (*rtp)(void *user, const struct sockaddr *from, uint8_t *buf,
              size_t len);
};

struct tern_transport_endpoint {
  const struct tern_transport_handler *h;
  void *user;
};

enum tern_transport_drop {
  TERN_DROP_UNKNOWN_UFRAG,   /* STUN request naming no peer of ours */
  TERN_DROP_UNKNOWN_ADDR,    /* DTLS/RTP from an address no peer verified */
  TERN_DROP_MALFORMED_STUN,  /* first byte says STUN, parser says no */
  TERN_DROP_UNCLASSIFIED,    /* first byte in no RFC 7983 range */
  TERN_DROP_SEND_FAILED,     /* socket buffer full or route error */
  TERN_DROP__COUNT,
};

struct tern_transport_stats {
  uint64_t packets_in, bytes_in, packets_out, bytes_out;
  uint64_t drops[TERN_DROP__COUNT];
};

struct tern_transport {
  uv_loop_t *loop;
  uv_udp_t udp;
  struct sockaddr_storage local;
  struct tern_hashmap by_ufrag;
  struct tern_hashmap by_addr;
  struct tern_transport_stats stats;
  uint8_t *rx_buf; /* one receive buffer, reused for every datagram */
  size_t rx_cap;
  bool closing;
};

/* Binds host:port (port 0 = any free port). Returns 0 or a negative uv error. */
int tern_transport_init(struct tern_transport *t, uv_loop_t *loop, const char *host,
                        int port);
void tern_transport_close(struct tern_transport *t);
const char *tern_drop_reason_name(enum tern_transport_drop d);

int tern_transport_add_ufrag(struct tern_transport *t, const char *ufrag,
                             struct tern_transport_endpoint *ep);
void tern_transport_remove_ufrag(struct tern_transport *t, const char *ufrag);
int tern_transport_bind_addr(struct tern_transport *t, const struct sockaddr *addr,
                             struct tern_transport_endpoint *ep);
/* Unbinds addr only if it still belongs to ep. */
void tern_transport_unbind_addr(struct tern_transport *t, const struct sockaddr *addr,
                                struct tern_transport_endpoint *ep);

/* Classifies one received datagram and hands it to its endpoint (or drops
 * and counts it): what the receive callback does for every datagram. len must
 * be at least 1. Exposed for the fuzz target (tests/fuzz/fuzz_transport_demux.c);
 * handlers are called synchronously from here. */
void tern_transport_dispatch(struct tern_transport *t, const struct sockaddr *from,
                             uint8_t *buf, size_t len);

/* Sends one datagram now (no queue: a full socket buffer drops, like the
 * network would). Returns 0 or a negative uv error. */
int tern_transport_send(struct tern_transport *t, const struct sockaddr *to,
                        const uint8_t *buf, size_t len);

/* Address helpers shared by peers and logs. */
size_t tern_addr_key(const struct sockaddr *sa, uint8_t out[19]);
socklen_t tern_addr_len(const struct sockaddr *sa);
bool tern_addr_equal(const struct sockaddr *a, const struct sockaddr *b);
/* "1.2.3.4:5" or "[::1]:5" */
const char *tern_addr_str(const struct sockaddr *sa, char *buf, size_t cap);
/* Parses "host:port", ":port", "[v6]:port"; empty host → 0.0.0.0. */
int tern_addr_parse(const char *s, struct sockaddr_storage *out);

#endif

/* The addresses to announce as host candidates (port left to the caller):
 * announced_ip when set (NAT, like mediasoup's announcedIp); else the bound
 * address when it is specific; else every up interface of the bound family,
 * external ones first, loopback last. Returns the count. */
int tern_transport_host_addresses(const struct tern_transport *t, const char *announced_ip,
                                  struct sockaddr_storage *out, int max);
