/* ice — one ICE agent per peer connection, for one component (RTP/RTCP/DTLS
 * are bundled and muxed, so there is only ever component 1).
 *
 * Two roles:
 *  - TERN_ICE_ROLE_CONTROLLED_LITE: the server (RFC 8445 §2.5 ICE-lite). It
 *    sends no checks; it answers authenticated Binding requests, selects the
 *    address the controlling peer nominates and watches consent freshness
 *    (RFC 7675) from the requests it receives.
 *  - TERN_ICE_ROLE_CONTROLLING: Tern's own client (tests, load generator,
 *    cascading). It checks every remote candidate with aggressive nomination
 *    (USE-CANDIDATE on every request), selects the first that answers with a
 *    valid response, then sends consent checks every 5 s ± 20 % (half the
 *    consent timeout if that is configured below 10 s).
 *
 * The agent owns no socket and no timer: the owner feeds it STUN messages
 * (already classified with tern_stun_is_stun and parsed once with
 * tern_stun_parse; RFC 7983 demux is the transport's job) and the time, and
 * sends what ops->send asks. Time is any monotonic clock in milliseconds.
 * After every call into the agent, re-read tern_ice_agent_next_timeout() and
 * re-arm the timer; calling handle_timeout early or late is harmless.
 *
 * Nomination on the lite side: USE-CANDIDATE selects the request's source
 * address (and moves the selection if a later USE-CANDIDATE names another
 * one). Until something is nominated, the first authenticated request also
 * selects its source provisionally and makes the agent CONNECTED. Why:
 * Chromium uses regular nomination and nominates with a later check, but
 * starts DTLS as soon as its own check succeeds; the server must already
 * know where to send its DTLS flight. A provisional selection is replaced by
 * the first nominated one and never by another un-nominated one.
 *
 * Consent (lite): only authenticated requests from the selected address
 * refresh consent. No such request for consent_timeout_ms → DISCONNECTED; the
 * next one → CONNECTED again. The lite agent never goes FAILED on its own:
 * the owner decides how long DISCONNECTED may last.
 *
 * Callbacks: ops->send, ops->state_changed and ops->selected are called
 * synchronously from tern_ice_agent_start, _input and _handle_timeout (never
 * from create, set_remote_credentials, add_remote_candidate, close or
 * destroy). A callback may call tern_ice_agent_close() (the agent then sends
 * nothing more) and any getter, but must not destroy the agent nor re-enter
 * start/input/handle_timeout. close() does not call state_changed (as
 * RTCPeerConnection.close() fires no event).
 *
 * Limits: at most TERN_ICE_MAX_REMOTE_CANDIDATES remote candidates; no ICE
 * restart (credentials may be replaced, but state is kept); no role switching
 * on 487: a role conflict is answered/counted, never resolved by switching.
 */
#ifndef TERN_ICE_H
#define TERN_ICE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ice/stun.h"

#define TERN_ICE_UFRAG_LEN 8
#define TERN_ICE_PWD_LEN 24
#define TERN_ICE_MAX_REMOTE_CANDIDATES 8
#define TERN_ICE_DEFAULT_CONSENT_TIMEOUT_MS 10000
#define TERN_ICE_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define TERN_ICE_CHECK_PACE_MS 50       /* Ta: one check sent per 50 ms */
#define TERN_ICE_CONSENT_INTERVAL_MS 5000 /* ± 20 %, RFC 7675 §5.1 */

enum tern_ice_role { TERN_ICE_ROLE_CONTROLLED_LITE, TERN_ICE_ROLE_CONTROLLING };

enum tern_ice_state {
  TERN_ICE_NEW,
  TERN_ICE_CHECKING,
  TERN_ICE_CONNECTED,
  TERN_ICE_DISCONNECTED,
  TERN_ICE_FAILED,
  TERN_ICE_CLOSED,
};

/* "new", "checking", ... as RTCIceConnectionState spells them. */
const char *tern_ice_state_name(enum tern_ice_state s);

struct tern_ice_ops {
  void (*send)(void *user, const struct sockaddr *to, const uint8_t *buf,
               size_t len);
  void (*state_changed)(void *user, enum tern_ice_state state);
  /* Nominated (or provisionally selected, see above) remote address; called
   * again whenever it changes. The pointer is valid for the call only. */
  void (*selected)(void *user, const struct sockaddr *remote);
};

struct tern_ice_config {
  uint32_t consent_timeout_ms; /* 0 → TERN_ICE_DEFAULT_CONSENT_TIMEOUT_MS */
  uint32_t connect_timeout_ms; /* controlling: FAILED if no check succeeds in
                                  this long after start; 0 → default */
};

/* Counters for dropped and answered messages; never reset. */
struct tern_ice_stats {
  uint64_t requests_ok;     /* authenticated requests answered with success */
  uint64_t bad_integrity;   /* missing or wrong MESSAGE-INTEGRITY */
  uint64_t bad_username;    /* missing or foreign USERNAME */
  uint64_t bad_fingerprint; /* request without a valid FINGERPRINT, or a
                               response with a wrong one */
  uint64_t role_conflicts;  /* 487 sent or received */
  uint64_t unknown_attributes; /* 420 sent */
  uint64_t responses_ok;    /* authenticated success responses (controlling) */
  uint64_t unmatched;       /* responses with no outstanding transaction */
};

struct tern_ice_agent;

/* cfg may be NULL (defaults). ops is copied. NULL on allocation or RNG
 * failure. */
struct tern_ice_agent *tern_ice_agent_create(enum tern_ice_role role,
                                             const struct tern_ice_config *cfg,
                                             const struct tern_ice_ops *ops,
                                             void *user);
void tern_ice_agent_destroy(struct tern_ice_agent *a);

/* Random at create (RAND_bytes over the ice-char set): 8 and 24 chars. */
const char *tern_ice_agent_local_ufrag(const struct tern_ice_agent *a);
const char *tern_ice_agent_local_pwd(const struct tern_ice_agent *a);

/* From the remote SDP. ufrag 4–256 and pwd 22–256 ice-chars (RFC 8839 §5.4),
 * else -EINVAL. */
int tern_ice_agent_set_remote_credentials(struct tern_ice_agent *a,
                                          const char *ufrag, const char *pwd);
/* AF_INET / AF_INET6 only (-EAFNOSUPPORT); -ENOSPC past the limit; a
 * duplicate address is ignored. The controlling role checks these in
 * priority order; the lite role keeps them but does not use them. */
int tern_ice_agent_add_remote_candidate(struct tern_ice_agent *a,
                                        const struct sockaddr *addr,
                                        uint32_t priority);

/* NEW → CHECKING. Controlling: sends the first check at once. */
void tern_ice_agent_start(struct tern_ice_agent *a, uint64_t now_ms);

/* A Binding message from `from`; parsed must be tern_stun_parse(buf, len).
 * Anything the agent does not accept is dropped silently and counted. */
void tern_ice_agent_input(struct tern_ice_agent *a, const struct sockaddr *from,
                          const uint8_t *buf, size_t len,
                          const struct tern_stun_msg *parsed, uint64_t now_ms);

/* Absolute ms of the next thing to do, UINT64_MAX if nothing is scheduled. */
uint64_t tern_ice_agent_next_timeout(const struct tern_ice_agent *a);
void tern_ice_agent_handle_timeout(struct tern_ice_agent *a, uint64_t now_ms);

enum tern_ice_state tern_ice_agent_state(const struct tern_ice_agent *a);
enum tern_ice_role tern_ice_agent_role(const struct tern_ice_agent *a);
/* NULL until something is selected; valid until the next call into a. */
const struct sockaddr *tern_ice_agent_selected(const struct tern_ice_agent *a);
const struct tern_ice_stats *tern_ice_agent_stats(const struct tern_ice_agent *a);

/* → CLOSED (terminal, no callback); nothing is sent afterwards. */
void tern_ice_agent_close(struct tern_ice_agent *a);

#endif
