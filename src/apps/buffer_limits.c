/* datachannel-buffer-limits: the client uploads "#START <kB>", data, "#STOP";
 * the server counts the bytes, then sends the same amount back in chunks of
 * <kB> KiB between "#START <upload ms>" and "#STOP <queue ms>".
 *
 * Unlike the seed, which queued everything at once and relied on
 * libwebrtc's 16 MiB buffer, the server here respects back-pressure: it
 * keeps at most HIGH_WATER bytes buffered and refills from the channel's
 * buffered-amount-low callback, so a client asking for 1 GiB cannot make the
 * server hold 1 GiB. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "apps/apps.h"
#include "core/log.h"
#include "peer/peer.h"

#define HIGH_WATER (1u << 20)
#define LOW_WATER (256u << 10)
#define MAX_CHUNK_KB 1024 /* a chunk is one message: keep it under max-message-size */

struct session {
  struct tern_conn *conn;
  struct tern_dc *dc;
  uint64_t upload_start_ms;
  uint64_t uploaded;
  size_t chunk;       /* bytes per message sent back */
  uint64_t to_send;   /* bytes still to send back */
  uint64_t queue_start_ms;
  bool sending;
  uint8_t *chunk_buf; /* chunk bytes of '.', made once per download */
};

static uint64_t now_ms(void) { return uv_hrtime() / 1000000; }

/* Sends while the channel buffer is below HIGH_WATER; resumes on low-water. */
static void pump(struct session *s) {
  char line[64];
  while (s->sending && s->to_send > 0 && tern_dc_buffered_amount(s->dc) < HIGH_WATER) {
    size_t n = s->chunk;
    /* The seed rounds the remainder up to a whole chunk; we send exactly
     * what was uploaded so both sides can compare byte counts. */
    if (n > s->to_send)
      n = (size_t)s->to_send;
    if (tern_dc_send(s->dc, s->chunk_buf, n, false) < 0) {
      tern_log_warn(tern_conn_id(s->conn), "buffer-limits: send failed, closing");
      s->sending = false;
      tern_conn_close(s->conn);
      return;
    }
    s->to_send -= n;
  }
  if (s->sending && s->to_send == 0) {
    s->sending = false;
    snprintf(line, sizeof line, "#STOP %llu",
             (unsigned long long)(now_ms() - s->queue_start_ms));
    tern_dc_send(s->dc, (const uint8_t *)line, strlen(line), false);
    free(s->chunk_buf);
    s->chunk_buf = NULL;
    tern_log_info(tern_conn_id(s->conn), "buffer-limits: sent back %llu bytes",
                  (unsigned long long)s->uploaded);
  }
}

static void start_download(struct session *s) {
  char line[64];
  uint64_t upload_ms = now_ms() - s->upload_start_ms;
  free(s->chunk_buf);
  s->chunk_buf = malloc(s->chunk);
  if (!s->chunk_buf) {
    tern_conn_close(s->conn);
    return;
  }
  memset(s->chunk_buf, '.', s->chunk);
  s->to_send = s->uploaded;
  s->queue_start_ms = now_ms();
  s->sending = true;
  tern_log_info(tern_conn_id(s->conn), "buffer-limits: received %llu bytes in %llu ms",
                (unsigned long long)s->uploaded, (unsigned long long)upload_ms);
  snprintf(line, sizeof line, "#START %llu", (unsigned long long)upload_ms);
  tern_dc_send(s->dc, (const uint8_t *)line, strlen(line), false);
  pump(s);
}

static void on_message(struct tern_dc *dc, void *user, const uint8_t *buf, size_t len,
                       bool binary) {
  struct session *s = user;
  (void)dc;
  if (!binary && len >= 6 && memcmp(buf, "#START", 6) == 0) {
    char num[16] = {0};
    size_t n = len - 6 < sizeof num - 1 ? len - 6 : sizeof num - 1;
    memcpy(num, buf + 6, n);
    long kb = strtol(num, NULL, 10);
    if (kb > 0 && kb <= MAX_CHUNK_KB)
      s->chunk = (size_t)kb * 1024;
    s->upload_start_ms = now_ms();
    s->uploaded = 0;
    s->sending = false;
    return;
  }
  if (!binary && len == 5 && memcmp(buf, "#STOP", 5) == 0) {
    start_download(s);
    return;
  }
  s->uploaded += len;
}

static void on_buffered_low(struct tern_dc *dc, void *user) {
  (void)dc;
  pump(user);
}

static const struct tern_dc_ops channel_ops = {.message = on_message,
                                               .buffered_low = on_buffered_low};

static int on_open(struct tern_conn *c, void *app) {
  (void)app;
  struct session *s = calloc(1, sizeof *s);
  if (!s)
    return -1;
  s->conn = c;
  s->chunk = 64 * 1024; /* the seed's default until the client says */
  struct tern_dc_init init = {.label = "datachannel-buffer-limits", .protocol = "",
                              .ordered = true, .max_retransmits = -1,
                              .max_packet_life_time = -1, .id = -1};
  s->dc = tern_peer_create_datachannel(tern_conn_peer(c), &init, &channel_ops, s);
  if (!s->dc) {
    free(s);
    return -1;
  }
  tern_dc_set_buffered_amount_low_threshold(s->dc, LOW_WATER);
  tern_conn_set_data(c, s);
  return 0;
}

static void on_close(struct tern_conn *c, void *app) {
  struct session *s = tern_conn_data(c);
  (void)app;
  if (!s)
    return;
  free(s->chunk_buf);
  free(s);
  tern_conn_set_data(c, NULL);
}

static const struct tern_conn_app buffer_limits = {
    .name = "datachannel-buffer-limits", .open = on_open, .close = on_close};

struct tern_conns *tern_app_buffer_limits_mount(const struct tern_conns_env *env) {
  return tern_conns_mount(env, "/datachannel-buffer-limits", &buffer_limits, NULL);
}
