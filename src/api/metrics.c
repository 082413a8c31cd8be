#include "api/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "http/server.h"
#include "net/transport.h"
#include "peer/media.h"

#define METRICS_CAP 8192

struct out {
  char buf[METRICS_CAP];
  size_t len;
};

static void emit(struct out *o, const char *fmt, ...) {
  va_list ap;
  if (o->len >= sizeof o->buf)
    return;
  va_start(ap, fmt);
  int n = vsnprintf(o->buf + o->len, sizeof o->buf - o->len, fmt, ap);
  va_end(ap);
  if (n > 0)
    o->len += (size_t)n;
  if (o->len > sizeof o->buf)
    o->len = sizeof o->buf;
}

static void metric(struct out *o, const char *name, const char *type, const char *help,
                   unsigned long long v) {
  emit(o, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name, v);
}

static void get_metrics(struct tern_http_req *req, void *user) {
  const struct tern_media *m = user;
  const struct tern_transport_stats *st = &m->transport.stats;
  struct out *o = malloc(sizeof *o); /* control plane: a scrape may allocate */
  if (!o) {
    tern_http_respond_text(req, 500, "out of memory");
    return;
  }
  o->len = 0;
  metric(o, "tern_peers", "gauge", "Peer connections open now.", m->env.peers_live);
  metric(o, "tern_peers_created_total", "counter", "Peer connections created.",
         m->env.peers_created);
  metric(o, "tern_udp_packets_in_total", "counter", "Datagrams received on the media port.",
         st->packets_in);
  metric(o, "tern_udp_bytes_in_total", "counter", "Bytes received on the media port.",
         st->bytes_in);
  metric(o, "tern_udp_packets_out_total", "counter", "Datagrams sent from the media port.",
         st->packets_out);
  metric(o, "tern_udp_bytes_out_total", "counter", "Bytes sent from the media port.",
         st->bytes_out);
  emit(o, "# HELP tern_udp_drops_total Datagrams dropped, by reason.\n"
          "# TYPE tern_udp_drops_total counter\n");
  for (int i = 0; i < TERN_DROP__COUNT; i++)
    emit(o, "tern_udp_drops_total{reason=\"%s\"} %llu\n", tern_drop_reason_name(i),
         (unsigned long long)st->drops[i]);
  tern_http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", o->buf, o->len);
  free(o);
}

int tern_metrics_mount(struct tern_http_server *http, const struct tern_media *media) {
  return tern_http_route(http, "GET", "/metrics", get_metrics, (void *)media);
}
