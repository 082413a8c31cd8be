/* metrics — GET /metrics in the Prometheus text format (version 0.0.4).
 *
 * Reads counters that the layers keep anyway (the transport's packet and
 * drop counts, the peer environment's peer counts); nothing is counted on
 * its behalf, so serving metrics costs the media path nothing. */
#ifndef TERN_API_METRICS_H
#define TERN_API_METRICS_H

struct tern_http_server;
struct tern_media;

int tern_metrics_mount(struct tern_http_server *http, const struct tern_media *media);

#endif
