/* session — one REST-negotiated peer connection driven by Tern's client role.
 *
 * The steps are those of the seed's ConnectionClient, timed with uv_hrtime:
 *
 *   POST /<example>/connections            → the server's offer
 *   set remote offer, create answer         (client-side work)
 *   POST …/connections/<id>/remote-description {"type":"answer","sdp":…}
 *   wait for the server's data channel to arrive open (ICE, DTLS, SCTP, DCEP)
 *   send "ping", wait for "pong"
 *   then either DELETE at once (negotiate) or stay connected (idle) until
 *   bc_session_hangup.
 *
 * Every step has a deadline (step_timeout_ms); a failure stops the session
 * with one line in err and the failed step's name.
 *
 * Each session has its own UDP socket: the server tells peers apart by the
 * client's address (RFC 7983 demux), and one client socket could hold only
 * one route to the server's one address.
 *
 * Lifetime: bc_session_start → done callback exactly once (ok or failed).
 * After done, an idle session keeps its peer alive until bc_session_hangup;
 * its done_hangup callback then fires when the DELETE finished. The struct
 * itself must outlive the loop's last run: bc_session_release closes peer,
 * socket and timer and the caller frees the memory only after running the
 * loop until it has no more handles (see main.c). Callbacks are never called
 * from inside bc_session_start/hangup/release.
 */
#ifndef BC_SESSION_H
#define BC_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "net/transport.h"
#include "peer/peer.h"

struct bc_http;

struct bc_target {
  uv_loop_t *loop;
  struct sockaddr_storage server; /* HTTP */
  char host[300];                 /* Host header */
  char example[64];               /* "ping-pong" */
  unsigned step_timeout_ms;
  const struct tern_peer_env *env; /* shared cert/DTLS/SCTP; transport replaced */
};

enum bc_step {
  BC_STEP_POST_OFFER,
  BC_STEP_ANSWER, /* local: apply offer, create answer */
  BC_STEP_POST_ANSWER,
  BC_STEP_CHANNEL, /* waiting for the data channel to open */
  BC_STEP_PONG,
  BC_STEP_CONNECTED, /* idle: holding the connection */
  BC_STEP_DELETE,
  BC_STEP_DONE,
  BC_STEP_FAILED,
};

/* Timestamps (uv_hrtime, ns; 0 = not reached). */
struct bc_times {
  uint64_t post_start, post_done;       /* POST /connections */
  uint64_t answer_done;                 /* offer applied, answer created */
  uint64_t answer_post_start, answer_post_done;
  uint64_t ice_connected, peer_connected; /* client side: ICE, then DTLS */
  uint64_t channel_open;
  uint64_t ping_sent, pong_received;
  uint64_t delete_start, delete_done;
};

struct bc_session;
typedef void (*bc_session_cb)(struct bc_session *s, void *user);

struct bc_session {
  const struct bc_target *target;
  bool keep; /* idle: stay connected after the pong */
  bc_session_cb done, hung_up;
  void *user;
  enum bc_step step, failed_step;
  char err[320];
  char id[64];
  struct bc_times t;

  struct tern_transport transport;
  bool transport_open;
  struct tern_peer_env env;
  struct tern_peer *peer;
  struct tern_dc *dc;
  struct bc_http *http;
  uv_timer_t timer; /* step deadline; also defers the start */
  bool timer_open;
  bool hanging_up;   /* bc_session_hangup was called: report to hung_up */
  bool disconnected; /* idle: ICE or the peer left "connected" afterwards */
};

/* 0, or negative with s->err set (nothing to release then except the
 * struct). The session starts on the next loop turn. */
int bc_session_start(struct bc_session *s, const struct bc_target *target, bool keep,
                     bc_session_cb done, bc_session_cb hung_up, void *user);
/* Idle sessions: DELETE the connection and close the peer; hung_up follows
 * (step DONE, or FAILED with err). Does nothing unless step is CONNECTED. */
void bc_session_hangup(struct bc_session *s);
/* Closes everything without callbacks. The memory must stay valid until the
 * loop has run its close callbacks. */
void bc_session_release(struct bc_session *s);
const char *bc_step_name(enum bc_step s);

#endif
