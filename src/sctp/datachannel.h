/* datachannel — WebRTC data channels on one SCTP association (RFC 8831, 8832).
 *
 * A tern_dc_set is all the data channels of one peer connection. It owns the
 * SCTP association (sctp.h) and speaks DCEP (dcep.h) on it: channels opened
 * here send DATA_CHANNEL_OPEN, channels the remote opens are announced via
 * set ops->channel after we ACK them, and pre-negotiated channels (same id on
 * both sides) skip DCEP. Stream ids: even for the DTLS client, odd for the
 * DTLS server (RFC 8832 §6); auto ids take the lowest free one. The DTLS role
 * may change until start (an offerer learns it from the answer), so channels
 * created before start without an id get it at start (tern_dc_id is -1
 * until then, like RTCDataChannel.id being null).
 *
 * Sending: tern_dc_send hands the message to SCTP directly when it can (no
 * copy, no allocation); otherwise it is queued in Tern (one allocation per
 * queued message) and flushed when SCTP has room, channels served round-
 * robin. tern_dc_buffered_amount counts queued bytes not yet handed to SCTP,
 * like RTCDataChannel.bufferedAmount; buffered_low fires when it falls to the
 * threshold or below. All queues of a set together are bounded
 * (max_buffered, 16 MiB by default): past it, send returns -ENOBUFS.
 *
 * Closing (RFC 8831 §6.7): tern_dc_close lets queued messages go, then
 * resets our outgoing stream; the remote answers by resetting its own, and
 * then closed fires. A remote reset closes the channel the same way
 * (unsent messages are dropped). When the association dies, every channel
 * closes.
 *
 * Lifetime and callbacks (all on the loop thread):
 *  - A tern_dc is freed right after its closed callback returns: do not use
 *    the pointer after that. Channels still alive at tern_dc_set_destroy are
 *    freed without callbacks.
 *  - Callbacks come from tern_dc_set_input, from the SCTP timer, and from a
 *    deferred (next loop iteration) run: open for channels created while the
 *    association is up, closed for channels closed before it is up.
 *    tern_dc_create, tern_dc_close and tern_dc_send never call the callbacks
 *    of their own channel synchronously.
 *  - From any callback you may create, send on and close channels. Never
 *    destroy the set from inside one of its callbacks (defer it).
 *  - ops->send (the SCTP packets for DTLS) follows sctp.h's rules: copy the
 *    packet, do not call back into this module; it is also called inside
 *    tern_dc_set_destroy (the ABORT).
 */
#ifndef TERN_DATACHANNEL_H
#define TERN_DATACHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sctp/sctp.h"

#define TERN_DC_DEFAULT_MAX_MESSAGE (256 * 1024)
#define TERN_DC_DEFAULT_MAX_BUFFERED (16u * 1024 * 1024)

struct tern_dc;
struct tern_dc_set;

struct tern_dc_init {
  const char *label;    /* NULL → "" */
  const char *protocol; /* NULL → "" */
  bool ordered;
  int max_retransmits;      /* -1: not limited */
  int max_packet_life_time; /* ms, -1: not limited (wins over retransmits) */
  bool negotiated;          /* pre-negotiated: no DCEP, id required */
  int id;                   /* -1: automatic */
};

struct tern_dc_ops {
  void (*open)(struct tern_dc *dc, void *user);
  /* buf is valid only during the call. */
  void (*message)(struct tern_dc *dc, void *user, const uint8_t *buf,
                  size_t len, bool binary);
  void (*closed)(struct tern_dc *dc, void *user);
  void (*buffered_low)(struct tern_dc *dc, void *user);
};

struct tern_dc_set_ops {
  /* SCTP packet to carry over DTLS (see the rules above). Here or through
   * tern_dc_set_set_send; required before start. */
  void (*send)(void *user, const uint8_t *buf, size_t len);
  /* The remote opened dc (already open): set its ops here with
   * tern_dc_set_ops, or close it. Without ops its messages are dropped. */
  void (*channel)(void *user, struct tern_dc *dc);
  /* Optional: the association came up / is gone (after every channel's
   * closed callback). */
  void (*connected)(void *user);
  void (*closed)(void *user);
};

struct tern_dc_set_config {
  bool dtls_client;          /* even stream ids if true, odd if false; may
                                change until start */
  uint16_t local_port;       /* SDP a=sctp-port; 0 → 5000 */
  uint16_t streams;          /* 0 → TERN_SCTP_DEFAULT_STREAMS */
  uint32_t max_message_size; /* what we accept (our a=max-message-size);
                                0 → TERN_DC_DEFAULT_MAX_MESSAGE */
  size_t max_buffered;       /* 0 → TERN_DC_DEFAULT_MAX_BUFFERED */
  const char *log_id;        /* copied; may be NULL */
};

/* Defaults for everything else (port 5000, 64 streams, we accept 256 KiB
 * messages: advertise TERN_DC_DEFAULT_MAX_MESSAGE in SDP, 16 MiB of queues).
 * Uses the stack's uv loop. Returns NULL on failure. */
struct tern_dc_set *tern_dc_set_create(struct tern_sctp_stack *stack,
                                       bool dtls_client,
                                       const struct tern_dc_set_ops *ops,
                                       void *user, const char *log_id);
struct tern_dc_set *tern_dc_set_create_ex(struct tern_sctp_stack *stack,
                                          const struct tern_dc_set_config *cfg,
                                          const struct tern_dc_set_ops *ops,
                                          void *user);
/* Where SCTP packets go (instead of ops->send); user is passed to send. */
void tern_dc_set_set_send(struct tern_dc_set *s,
                          void (*send)(void *user, const uint8_t *, size_t),
                          void *user);
/* The final DTLS role, once known (before start; -EALREADY after). */
int tern_dc_set_set_dtls_client(struct tern_dc_set *s, bool dtls_client);
/* After DTLS is connected, before feeding input. Assigns pending ids.
 * remote_max_message_size is the peer's a=max-message-size (0: any size;
 * not in SDP: 65536). Returns 0, -EALREADY, -EINVAL (no send), -errno. */
int tern_dc_set_start(struct tern_dc_set *s, uint16_t remote_port,
                      uint32_t remote_max_message_size);
/* One SCTP packet from DTLS. */
void tern_dc_set_input(struct tern_dc_set *s, const uint8_t *buf, size_t len);
/* Frees every channel (no callbacks) and aborts the association. */
void tern_dc_set_destroy(struct tern_dc_set *s);
bool tern_dc_set_is_connected(const struct tern_dc_set *s);

/* May be called before start: the OPEN goes out once the association is up
 * and open fires then. Returns NULL when the id is taken, of the wrong
 * parity (checked at start for earlier channels, which then close), beyond
 * the streams, or the association is gone. */
struct tern_dc *tern_dc_create(struct tern_dc_set *s,
                               const struct tern_dc_init *init,
                               const struct tern_dc_ops *ops, void *user);
void tern_dc_set_ops(struct tern_dc *dc, const struct tern_dc_ops *ops,
                     void *user);

/* 0 on success (sent or queued). -EMSGSIZE beyond the remote
 * max-message-size, -ENOBUFS when the set's queues are full, -ENOTCONN while
 * connecting, -EPIPE once closing/closed. */
int tern_dc_send(struct tern_dc *dc, const uint8_t *buf, size_t len,
                 bool binary);
size_t tern_dc_buffered_amount(const struct tern_dc *dc);
void tern_dc_set_buffered_amount_low_threshold(struct tern_dc *dc, size_t n);
/* Starts closing; closed follows (never from inside this call). */
void tern_dc_close(struct tern_dc *dc);

const char *tern_dc_label(const struct tern_dc *dc);
const char *tern_dc_protocol(const struct tern_dc *dc);
int tern_dc_id(const struct tern_dc *dc); /* -1 until assigned at start */
bool tern_dc_is_open(const struct tern_dc *dc);
bool tern_dc_is_ordered(const struct tern_dc *dc);
int tern_dc_max_retransmits(const struct tern_dc *dc);
int tern_dc_max_packet_life_time(const struct tern_dc *dc);

#endif
