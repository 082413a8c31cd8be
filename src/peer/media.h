/* media — what every peer on one loop shares: the UDP transport, the DTLS
 * certificate and context, the SCTP stack, and the peer environment that
 * points at them. Made once at start (the certificate costs ~1 ms), torn
 * down after the last peer. The fingerprint is the same for every peer, so
 * one certificate serves all (as in Janus and mediasoup). */
#ifndef TERN_MEDIA_H
#define TERN_MEDIA_H

#include <stddef.h>
#include <uv.h>

#include "core/iplimit.h"
#include "net/transport.h"
#include "peer/peer.h"

struct tern_media {
  struct tern_transport transport;
  struct tern_cert *cert;
  struct tern_dtls_ctx *dtls;
  struct tern_sctp_stack *sctp;
  struct tern_peer_env env;
  struct tern_iplimit per_ip;
  bool transport_ready;
  bool srtp_ref; /* a reference on libsrtp's process-wide state */
  uv_check_t drain; /* waits for closed peers to be freed before closing */
};

struct tern_media_config {
  const char *host; /* "" = all addresses */
  int port;
  const char *announced_ip; /* "" or NULL = none */
  unsigned consent_timeout_ms;
  unsigned handshake_timeout_ms;
  unsigned max_peers_per_ip; /* 0 = no limit */
};

/* 0, or a negative error with one line in err (undoes what it did). */
int tern_media_init(struct tern_media *m, uv_loop_t *loop, const struct tern_media_config *cfg,
                    char *err, size_t errcap);
/* Closes the socket and frees the rest once every peer is freed: closed
 * peers free themselves at the end of a loop iteration, and the SCTP stack
 * and DTLS context must outlive them, so this may finish an iteration or
 * two later (the loop keeps running until it has). Close every peer first. */
void tern_media_close(struct tern_media *m);

#endif
