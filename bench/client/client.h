/* client — what the tern-client modes share: options, the loop, and the
 * client-side media context (one DTLS certificate and context, the SCTP
 * stack, and a peer environment whose transport each session replaces with
 * a socket of its own).
 *
 * Modes (one file each): negotiate (timed REST negotiations, one after the
 * other), idle (N connections held open, for the server's memory per peer),
 * inproc (server and client roles in this process, no HTTP: the cost of the
 * stack itself), broadcast (one broadcaster, N viewers, audio+video: the
 * server's forwarding cost). Each returns the process exit code: 0 ok, 1 a failure
 * already reported on stderr as one line.
 */
#ifndef BC_CLIENT_H
#define BC_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "peer/media.h"
#include "session.h"

struct bc_opts {
  const char *url;
  const char *example;
  const char *bind; /* local address for the client's UDP sockets */
  unsigned count;
  unsigned timeout_ms; /* per step */
  unsigned seconds;    /* idle: hold this long (0 = until SIGINT/SIGTERM) */
  unsigned parallel;   /* idle: sessions being set up at once */
  unsigned pause_ms;   /* negotiate: pause between one run's end and the next */
  unsigned viewers;    /* broadcast: viewers of the one broadcaster */
  int server_pid;      /* broadcast: whose CPU time to read (0 = none) */
  bool verbose;
};

struct bc_client {
  uv_loop_t loop;
  struct tern_media media;
  bool media_ready;
  struct bc_target target;
};

/* 0, or -1 with the reason printed. url may be NULL (inproc). */
int bc_client_init(struct bc_client *c, const struct bc_opts *o);
/* Releases every session in sessions[0..n), drains the loop, closes the
 * media context and the loop. The caller frees sessions afterwards. */
void bc_client_finish(struct bc_client *c, struct bc_session *sessions, size_t n);

void bc_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline double bc_ms(uint64_t from_ns, uint64_t to_ns) {
  return ((double)to_ns - (double)from_ns) / 1e6;
}

int bc_run_negotiate(const struct bc_opts *o);
int bc_run_idle(const struct bc_opts *o);
int bc_run_inproc(const struct bc_opts *o);
int bc_run_broadcast(const struct bc_opts *o);

#endif
