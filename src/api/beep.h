/* beep — Beep's voice API (SPEC §2, seed 000): GET /connect (WebSocket:
 * the client's SDP offer in, the server's answer out, closed with 1000 once
 * ICE and DTLS are up) and POST /join/:conversationid, identity from
 * X-User-Claim (AUTH=header, behind the auth proxy) or a verified HS256 JWT
 * (AUTH=jwt).
 *
 * A client is one (userid, clientid) peer. It lives as long as its peer
 * connection: the WebSocket is only for signalling and goes away once the
 * peer is up; a client whose ICE goes disconnected or failed is removed.
 * /join moves every client of the user, and is remembered for clients that
 * connect later. */
#ifndef TERN_API_BEEP_H
#define TERN_API_BEEP_H

#include <uv.h>

struct tern_http_server;
struct tern_peer_env;
struct tern_config;
struct tern_beep;

struct tern_beep *tern_beep_mount(uv_loop_t *loop, struct tern_http_server *http,
                                  struct tern_peer_env *peers, const struct tern_config *cfg);
/* Closes every client (their peers) and the rooms. */
void tern_beep_destroy(struct tern_beep *b);

#endif
