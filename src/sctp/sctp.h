/* sctp — SCTP associations over DTLS, on usrsctp (RFC 8261).
 *
 * One tern_sctp_assoc is the SCTP association of one peer connection. It never
 * touches a socket: SCTP packets go out through ops->send (the peer encrypts
 * them with DTLS) and come in through tern_sctp_assoc_input (what DTLS
 * decrypted). Above it, datachannel.h speaks DCEP and owns the channels.
 *
 * The stack.  usrsctp keeps all its state in process-wide globals: one init,
 * one output callback without a context pointer, one clock. tern_sctp_stack
 * wraps that one global: it is refcounted (the first create initialises
 * usrsctp with usrsctp_init_nothreads — no timer thread, no raw sockets — and
 * the last destroy finishes it), and it drives usrsctp's clock from a
 * uv_timer_t on ONE libuv loop (usrsctp_handle_timers every 10 ms while
 * associations exist). Because of that, every association of the process must
 * live on that loop; a create with another loop fails.
 *
 * Threads and re-entrancy.  Everything runs on the stack's loop thread.
 * usrsctp calls back while we are inside it, so:
 *  - ops->send may be called from inside ANY tern_sctp_* call (start, input,
 *    send, reset, destroy — an ABORT) and from the timer. It must copy the
 *    packet and must not call any tern_sctp_* function (usrsctp holds its locks
 *    while it emits output; feeding input back from there would re-enter it).
 *  - connected, closed, message, stream_reset and writable are called only
 *    from tern_sctp_assoc_input and from the stack's timer, after usrsctp has
 *    returned (readiness is noted in usrsctp's upcall and processed once it
 *    returned). From them you may call tern_sctp_assoc_send/reset_stream/
 *    set_remote_max_message_size on any association, and destroy OTHER
 *    associations — never the one whose callback is running.
 *  - No callback is called after tern_sctp_assoc_destroy returns.
 *
 * Memory: ≈16 KB per established association with 64 streams, ≈10.5 KB
 * with 16 (measured, with the data channel set; docs/sctp.md), plus what is
 * in flight: at most the send buffer (256 KiB)
 * and the receive window (256 KiB), plus one reassembly buffer up to
 * max_message_size while a large message arrives.
 *
 * RFCs: 4960/9260 (SCTP), 8261 (SCTP over DTLS), 3758 (PR-SCTP), 6525 (stream
 * reset), 8831 §6 (SCTP usage for data channels), 8841 (max-message-size).
 */
#ifndef TERN_SCTP_H
#define TERN_SCTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* RFC 8831 §8 payload protocol identifiers. */
enum {
  TERN_SCTP_PPID_DCEP = 50,
  TERN_SCTP_PPID_STRING = 51,
  TERN_SCTP_PPID_BINARY_PARTIAL = 52, /* deprecated */
  TERN_SCTP_PPID_BINARY = 53,
  TERN_SCTP_PPID_STRING_PARTIAL = 54, /* deprecated */
  TERN_SCTP_PPID_STRING_EMPTY = 56,
  TERN_SCTP_PPID_BINARY_EMPTY = 57,
};

#define TERN_SCTP_DEFAULT_PORT 5000
#define TERN_SCTP_DEFAULT_STREAMS 64
/* RFC 8841 §6: with no a=max-message-size, assume 64 KiB. */
#define TERN_SCTP_DEFAULT_REMOTE_MAX_MESSAGE 65536
/* SCTP packets we emit are at most this big (RFC 8261 §5: ≤ 1200 is safe). */
#define TERN_SCTP_MAX_PACKET 1150 /* + DTLS record overhead (≤ 37 with AES-GCM) keeps datagrams ≤ 1200 */

struct tern_sctp_stack;
struct tern_sctp_assoc;

/* Returns the process' stack (creating it, or taking one more reference), or
 * NULL if usrsctp is already driven by a different loop or on failure. */
struct tern_sctp_stack *tern_sctp_stack_create(uv_loop_t *loop);
/* Drops a reference. The last one finishes usrsctp (all associations must be
 * destroyed by then) and closes the timer; its memory is released by the
 * loop's close callback, so run the loop once more before uv_loop_close. */
void tern_sctp_stack_destroy(struct tern_sctp_stack *s);
uv_loop_t *tern_sctp_stack_loop(const struct tern_sctp_stack *s);

struct tern_sctp_ops {
  /* An SCTP packet to carry over DTLS: copy it. See the re-entrancy rules. */
  void (*send)(void *user, const uint8_t *buf, size_t len);
  void (*connected)(void *user);
  /* The association is gone (ABORT, shutdown, or too many retransmissions).
   * Called once; sends fail with -ENOTCONN from then on. */
  void (*closed)(void *user);
  /* One whole message, reassembled up to max_message_size. A bigger one is
   * dropped (logged) and our outgoing stream sid is reset, which closes the
   * data channel per RFC 8831 §6.7. An empty message (ppid 56/57) comes with
   * its one filler byte: the layer above interprets ppids. */
  void (*message)(void *user, uint16_t sid, uint32_t ppid, const uint8_t *buf,
                  size_t len);
  /* The remote reset its outgoing stream sid (our incoming): it closed the
   * channel (RFC 8831 §6.7). */
  void (*stream_reset)(void *user, uint16_t sid);
  /* The send buffer has room again after a send returned -EAGAIN or took
   * only part of a message. */
  void (*writable)(void *user);
  /* Optional: our outgoing reset of sid completed (the sid may be reused). */
  void (*reset_done)(void *user, uint16_t sid);
};

struct tern_sctp_config {
  uint16_t local_port;        /* 0 → 5000 */
  uint16_t streams;           /* inbound and outbound offered; 0 → 64 */
  uint32_t max_message_size;  /* largest message we accept; 0 → 256 KiB */
  const char *log_id;         /* peer id for logs; copied; may be NULL */
};

/* Creates the association (socket bound, nothing sent yet). Both DTLS roles
 * connect: RFC 8841 §9.3 asks each endpoint to initiate, and SCTP resolves
 * the INIT collision (simultaneous open), so there is no listen/accept. */
struct tern_sctp_assoc *tern_sctp_assoc_create(struct tern_sctp_stack *s,
                                               const struct tern_sctp_config *cfg,
                                               const struct tern_sctp_ops *ops,
                                               void *user);
/* Call once DTLS is connected: sends INIT to remote_port. Input that arrives
 * before start is dropped (SCTP retransmits). Returns 0 or -errno. */
int tern_sctp_assoc_start(struct tern_sctp_assoc *a, uint16_t remote_port);
/* One SCTP packet that DTLS decrypted. */
void tern_sctp_assoc_input(struct tern_sctp_assoc *a, const uint8_t *buf,
                           size_t len);

/* Per-message delivery options (RFC 3758 PR-SCTP); -1 means "not limited". */
struct tern_sctp_sendopts {
  bool unordered;
  int max_rtx;          /* give up after this many retransmissions */
  int max_lifetime_ms;  /* give up after this long (wins over max_rtx) */
};

/* Hands (the rest of) one message to SCTP. Returns how many bytes SCTP took:
 * == len means the message is complete (an empty message is sent as one zero
 * byte and returns 0); 0 < n < len means SCTP took a first part (its buffer
 * is smaller than the message, SCTP_EXPLICIT_EOR) — call again with the rest
 * and the same sid/ppid/opts once writable fires; until then every other
 * send returns -EAGAIN. Errors: -EAGAIN (buffer full: wait for writable),
 * -EMSGSIZE (a new message beyond the remote max-message-size), -ENOTCONN
 * (not up, or gone), -EINVAL (sid beyond the negotiated streams). */
int tern_sctp_assoc_send(struct tern_sctp_assoc *a, uint16_t sid, uint32_t ppid,
                         const uint8_t *buf, size_t len,
                         const struct tern_sctp_sendopts *opts);
/* Resets our outgoing stream sid (RFC 6525), after what was queued on it.
 * Returns 0, -ENOTCONN, or -errno from usrsctp. */
int tern_sctp_assoc_reset_stream(struct tern_sctp_assoc *a, uint16_t sid);
/* The peer's a=max-message-size; 0 means "any size" (RFC 8841 §6). */
void tern_sctp_assoc_set_remote_max_message_size(struct tern_sctp_assoc *a,
                                                 uint32_t n);
uint32_t tern_sctp_assoc_remote_max_message_size(const struct tern_sctp_assoc *a);
/* Streams usable for sending (negotiated at COMM_UP; before: the configured). */
uint16_t tern_sctp_assoc_streams(const struct tern_sctp_assoc *a);
bool tern_sctp_assoc_is_up(const struct tern_sctp_assoc *a);
/* Sends ABORT (through ops->send) if the association exists, frees
 * everything. No callback after it returns. */
void tern_sctp_assoc_destroy(struct tern_sctp_assoc *a);

#endif
