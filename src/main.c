/* tern — a WebRTC media server. Entry point: configuration, start-up in the
 * order documented in core/server.h, the loop, shutdown. Modules are mounted
 * in mount_all(); keep this file a table of contents. */
#include "core/config.h"
#include "core/log.h"
#include "core/server.h"
#include "api/beep.h"
#include "api/metrics.h"
#include "apps/apps.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *out) {
  fprintf(out, "usage: tern [--help] [--version]\n\n"
               "A WebRTC media server: Beep's voice API, the node-webrtc "
               "examples' REST API\nand their pages on one HTTP port, all "
               "media on one UDP port.\n\n");
  tern_config_print_help(out);
}

static void get_healthz(struct tern_http_req *req, void *user) {
  (void)user;
  tern_http_respond(req, 200, "text/plain; charset=utf-8", "ok\n", 3);
}

/* Every module registers its routes here, after the listeners exist. */
static int mount_all(struct tern_server *srv) {
  static struct tern_conns *(*const examples[])(const struct tern_conns_env *) = {
      tern_app_ping_pong_mount,
      tern_app_buffer_limits_mount,
      tern_app_loopback_mount,
      tern_app_sine_wave_mount,
      tern_app_sine_wave_stereo_mount,
      tern_app_pitch_detector_mount,
      tern_app_video_compositing_mount,
  };
  struct tern_conns_env env = {
      .loop = &srv->loop,
      .http = srv->http,
      .peers = &srv->media.env,
      .time_to_connected_ms = srv->cfg.time_to_connected_ms,
      .time_to_reconnect_ms = srv->cfg.time_to_reconnect_ms,
      .max_peers = srv->cfg.max_peers,
  };
  int rc = tern_http_route(srv->http, "GET", "/healthz", get_healthz, srv);
  if (rc == 0)
    rc = tern_metrics_mount(srv->http, &srv->media);
  for (size_t i = 0; rc == 0 && i < sizeof examples / sizeof examples[0]; i++) {
    struct tern_conns *c = examples[i](&env);
    if (!c)
      return -ENOMEM;
    srv->apps[srv->n_apps++] = c;
  }
  if (rc == 0) {
    struct tern_conns *bc, *viewer;
    if (tern_app_broadcast_mount(&env, &bc, &viewer) < 0)
      return -ENOMEM;
    srv->apps[srv->n_apps++] = bc;
    srv->apps[srv->n_apps++] = viewer;
  }
  if (rc == 0) {
    /* Recording also serves its finished files: it needs the directory. */
    struct tern_conns *rec = tern_app_record_mount(&env, srv->cfg.recordings_dir);
    if (!rec)
      return -ENOMEM;
    srv->apps[srv->n_apps++] = rec;
  }
  if (rc == 0 && !(srv->beep = tern_beep_mount(&srv->loop, srv->http, &srv->media.env, &srv->cfg)))
    rc = -ENOMEM;
  return rc;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      return 0;
    }
    if (!strcmp(argv[i], "--version")) {
      printf("tern %s\n", TERN_VERSION);
      return 0;
    }
    fprintf(stderr, "tern: unknown argument \"%s\" (try --help)\n", argv[i]);
    return 2;
  }

  static struct tern_config cfg; /* large; static keeps it off the stack */
  static struct tern_server srv;
  char err[1200];
  if (tern_config_load(&cfg, ".env", err, sizeof err) < 0) {
    fprintf(stderr, "tern: %s\n", err);
    return 2;
  }
  tern_log_set_level((enum tern_log_level)cfg.log_level);

  if (tern_server_init(&srv, &cfg, err, sizeof err) < 0) {
    fprintf(stderr, "tern: %s\n", err);
    return 2;
  }
  int rc = mount_all(&srv);
  if (rc == 0)
    rc = tern_server_handle_signals(&srv);
  if (rc < 0) {
    fprintf(stderr, "tern: start-up failed (the log above says why): %s\n", strerror(-rc));
    tern_server_fini(&srv);
    return 1;
  }

  char http[96], media[96];
  tern_config_hostport_str(&cfg.listen, http, sizeof http);
  tern_config_hostport_str(&cfg.media_listen, media, sizeof media);
  tern_log_info(NULL, "tern %s: HTTP on http://%s%s/%s, media on UDP %s",
                TERN_VERSION, cfg.listen.host[0] ? "" : "localhost", http,
                cfg.listen.host[0] ? "" : " (all addresses)", media);

  tern_server_run(&srv);
  rc = tern_server_fini(&srv);
  tern_log_info(NULL, "bye");
  return rc < 0 ? 1 : 0;
}
