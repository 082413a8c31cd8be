#include "core/server.h"

#include "api/beep.h"
#include "api/connections.h"
#include "core/log.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHUTDOWN_GRACE_MS 3000

int tern_server_init(struct tern_server *srv, const struct tern_config *cfg,
                     char *err, size_t errcap) {
  memset(srv, 0, sizeof *srv);
  srv->cfg = *cfg;
  int rc = uv_loop_init(&srv->loop);
  if (rc < 0) {
    snprintf(err, errcap, "cannot create the event loop: %s", uv_strerror(rc));
    return rc;
  }
  srv->loop_ready = true;

  struct tern_http_limits lim;
  tern_http_limits_default(&lim);
  lim.max_body = cfg->max_body_bytes;
  lim.max_connections = cfg->http_max_connections;
  lim.max_connections_per_ip = cfg->http_max_connections_per_ip;
  srv->http = tern_http_server_create(&srv->loop, cfg->listen.host,
                                      cfg->listen.port, &lim, cfg->web_root,
                                      err, errcap);
  if (!srv->http) {
    tern_server_fini(srv);
    return -EADDRINUSE;
  }

  struct tern_media_config mcfg = {
      .host = cfg->media_listen.host,
      .port = cfg->media_listen.port,
      .announced_ip = cfg->announced_ip,
      .consent_timeout_ms = cfg->ice_consent_timeout_ms,
      .handshake_timeout_ms = 10000,
      .max_peers_per_ip = cfg->max_peers_per_ip,
  };
  rc = tern_media_init(&srv->media, &srv->loop, &mcfg, err, errcap);
  if (rc < 0) {
    tern_server_fini(srv);
    return rc;
  }
  srv->media_ready = true;
  return 0;
}

static void on_signal(uv_signal_t *h, int signum) {
  struct tern_server *srv = h->data;
  if (srv->stopping) {
    /* A second Ctrl-C while shutting down: the user means it. */
    tern_log_warn(NULL, "signal %d again: exiting now", signum);
    _exit(1);
  }
  tern_log_info(NULL, "shutting down (signal %d)", signum);
  tern_server_stop(srv);
}

int tern_server_handle_signals(struct tern_server *srv) {
  int rc;
  if ((rc = uv_signal_init(&srv->loop, &srv->sigint)) < 0 ||
      (rc = uv_signal_init(&srv->loop, &srv->sigterm)) < 0)
    return rc;
  srv->signals_ready = true;
  srv->sigint.data = srv->sigterm.data = srv;
  if ((rc = uv_signal_start(&srv->sigint, on_signal, SIGINT)) < 0 ||
      (rc = uv_signal_start(&srv->sigterm, on_signal, SIGTERM)) < 0)
    return rc;
  return 0;
}

static void log_and_close(uv_handle_t *h, void *arg) {
  (void)arg;
  if (uv_is_closing(h))
    return;
  tern_log_warn(NULL, "closing a leftover %s handle", uv_handle_type_name(h->type));
  uv_close(h, NULL);
}

/* Some handle outlived the grace period: close everything still open so
 * the loop can end (and say which kinds, for whoever forgot one). */
static void on_watchdog(uv_timer_t *t) {
  struct tern_server *srv = t->data;
  uv_walk(&srv->loop, log_and_close, NULL);
}

void tern_server_stop(struct tern_server *srv) {
  if (srv->stopping)
    return;
  srv->stopping = true;
  if (srv->signals_ready) {
    uv_close((uv_handle_t *)&srv->sigint, NULL);
    uv_close((uv_handle_t *)&srv->sigterm, NULL);
    srv->signals_ready = false;
  }
  /* Reverse of start-up: listeners first so nothing new arrives. */
  tern_http_server_destroy(srv->http);
  srv->http = NULL;
  /* Examples and Beep clients close their peers; then nothing uses the
   * media socket. */
  tern_beep_destroy(srv->beep);
  srv->beep = NULL;
  for (int i = srv->n_apps - 1; i >= 0; i--)
    tern_conns_destroy(srv->apps[i]);
  srv->n_apps = 0;
  if (srv->media_ready) {
    tern_media_close(&srv->media);
    srv->media_ready = false;
  }

  /* Unreferenced: it never keeps the loop alive by itself. */
  if (uv_timer_init(&srv->loop, &srv->watchdog) == 0) {
    srv->watchdog_ready = true;
    srv->watchdog.data = srv;
    uv_timer_start(&srv->watchdog, on_watchdog, SHUTDOWN_GRACE_MS, 0);
    uv_unref((uv_handle_t *)&srv->watchdog);
  }
}

int tern_server_run(struct tern_server *srv) {
  return uv_run(&srv->loop, UV_RUN_DEFAULT);
}

static void close_quiet(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

int tern_server_fini(struct tern_server *srv) {
  if (!srv->loop_ready)
    return 0;
  if (!srv->stopping) { /* a failed start-up: still tidy up */
    tern_server_stop(srv);
    uv_run(&srv->loop, UV_RUN_DEFAULT);
  }
  /* Inactive but unclosed handles (the watchdog, stopped timers) do not
   * keep uv_run going, yet uv_loop_close refuses them. */
  uv_walk(&srv->loop, close_quiet, NULL);
  uv_run(&srv->loop, UV_RUN_DEFAULT);
  int rc = uv_loop_close(&srv->loop);
  if (rc < 0) {
    tern_log_warn(NULL, "event loop did not close: %s", uv_strerror(rc));
    return -EBUSY;
  }
  srv->loop_ready = false;
  return 0;
}
