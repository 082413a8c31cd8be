/* server — the root of the ownership tree: config, loop, listeners, apps.
 *
 * One struct tern_server per process (per worker later). Everything else
 * hangs off it and receives it (or the pieces it needs) explicitly: there
 * are no globals. Modules that serve HTTP register their routes with a
 * function taking this struct, e.g. `int tern_beep_mount(struct tern_server *)`.
 *
 * Start-up order (tern_server_init), each step undone in reverse by
 * shutdown:
 *   1. the libuv loop
 *   2. the HTTP + WebSocket server on LISTEN
 *   3. the media transport on MEDIA_LISTEN (UDP socket, DTLS certificate,
 *      SCTP stack), then the examples, each mounting its REST API
 *   4. SIGINT / SIGTERM handlers
 * Shutdown (tern_server_stop, from a signal or a test): stop the signal
 * handlers, close the HTTP server (pending requests are aborted, WebSockets
 * closed), then the examples (closing their peers) and the media socket; tern_server_run returns
 * once the loop has no live handle left, and tern_server_fini closes
 * whatever is still open and the loop itself.
 */
#ifndef TERN_SERVER_H
#define TERN_SERVER_H

#include "core/config.h"
#include "http/server.h"
#include "peer/media.h"

#include <stdbool.h>
#include <uv.h>

#define TERN_VERSION "0.1.0"

struct tern_server {
  struct tern_config cfg;
  uv_loop_t loop;
  struct tern_http_server *http;
  struct tern_media media; /* the UDP socket, DTLS and SCTP shared by peers */
  bool media_ready;
  struct tern_conns *apps[16]; /* one REST connection manager per example */
  int n_apps;
  struct tern_beep *beep; /* Beep's /connect, /join and conversations */
  uv_signal_t sigint, sigterm;
  uv_timer_t watchdog; /* bounds shutdown if a handle never closes */
  bool loop_ready, signals_ready, watchdog_ready;
  bool stopping;
};

/* Steps 1–2 (and 4): on failure returns a negative errno with one line in
 * err, having undone what it did. */
int tern_server_init(struct tern_server *srv, const struct tern_config *cfg,
                     char *err, size_t errcap);

/* Installs the SIGINT/SIGTERM handlers (call last, after all mounts). */
int tern_server_handle_signals(struct tern_server *srv);

/* Runs the loop until shutdown completes. */
int tern_server_run(struct tern_server *srv);

/* Begins the shutdown described above; safe to call more than once and from
 * any loop callback. */
void tern_server_stop(struct tern_server *srv);

/* After tern_server_run returned (or after a failed init step): closes any
 * handle still open and the loop. 0, or -EBUSY if the loop would not close. */
int tern_server_fini(struct tern_server *srv);

#endif
