/* ping-pong: the server opens channel "ping-pong" and answers each "ping"
 * with "pong" — the smallest proof that ICE, DTLS, SCTP and DCEP all work. */
#include <string.h>

#include "apps/apps.h"
#include "core/log.h"
#include "peer/peer.h"

static void on_message(struct tern_dc *dc, void *user, const uint8_t *buf, size_t len,
                       bool binary) {
  (void)user;
  if (!binary && len == 4 && memcmp(buf, "ping", 4) == 0)
    tern_dc_send(dc, (const uint8_t *)"pong", 4, false);
}

static const struct tern_dc_ops channel_ops = {.message = on_message};

static int on_open(struct tern_conn *c, void *app) {
  (void)app;
  struct tern_dc_init init = {.label = "ping-pong", .protocol = "", .ordered = true,
                              .max_retransmits = -1, .max_packet_life_time = -1, .id = -1};
  return tern_peer_create_datachannel(tern_conn_peer(c), &init, &channel_ops, c) ? 0 : -1;
}

static const struct tern_conn_app ping_pong = {.name = "ping-pong", .open = on_open};

struct tern_conns *tern_app_ping_pong_mount(const struct tern_conns_env *env) {
  return tern_conns_mount(env, "/ping-pong", &ping_pong, NULL);
}
