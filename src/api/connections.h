/* connections — the REST negotiation API of node-webrtc-examples (SPEC §3).
 *
 * Mounted once per example under its prefix. The server always offers:
 * POST /connections creates a peer, lets the example add its data channels
 * and tracks, and returns the complete offer (host candidates inside, no
 * trickle). The client answers with POST …/remote-description.
 *
 * Lifecycle, as in the seed: a connection not ICE-connected within
 * time_to_connected_ms is closed and removed; one whose ICE goes
 * disconnected/failed and does not recover within time_to_reconnect_ms is
 * closed and removed; DELETE closes it at once. The example hears of every
 * close through app->close before the peer goes away.
 */
#ifndef TERN_API_CONNECTIONS_H
#define TERN_API_CONNECTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct tern_http_server;
struct tern_peer;
struct tern_peer_env;
struct tern_conns;
struct tern_conn;

struct tern_conns_env {
  uv_loop_t *loop;
  struct tern_http_server *http;
  struct tern_peer_env *peers;
  uint32_t time_to_connected_ms;
  uint32_t time_to_reconnect_ms;
  unsigned max_peers; /* across the whole server: peers_live is checked */
};

struct tern_conn_app {
  const char *name;
  /* The peer exists, the offer is not made yet: add channels/tracks here.
   * A negative return fails the POST with 500. */
  int (*open)(struct tern_conn *c, void *app);
  /* The connection is closing: forget it and everything of its peer. */
  void (*close)(struct tern_conn *c, void *app);
  /* The manager is being destroyed (shutdown), after every close. */
  void (*destroy)(void *app);
};

struct tern_conns *tern_conns_mount(const struct tern_conns_env *env, const char *prefix,
                                    const struct tern_conn_app *app, void *app_user);
/* Closes every connection (app->close runs for each). */
void tern_conns_destroy(struct tern_conns *m);
size_t tern_conns_count(const struct tern_conns *m);

struct tern_peer *tern_conn_peer(const struct tern_conn *c);
const char *tern_conn_id(const struct tern_conn *c);
void tern_conn_set_data(struct tern_conn *c, void *data);
void *tern_conn_data(const struct tern_conn *c);
/* Closes and removes the connection (e.g. the example is done with it). */
void tern_conn_close(struct tern_conn *c);

#endif
