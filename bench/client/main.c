/* tern-client — a load generator and test client built on Tern's own
 * client role (controlling ICE agent, DTLS client, SCTP/DCEP), talking to a
 * Tern server through the REST negotiation API (SPEC §3). See bench/README.md. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "core/log.h"
#include "http.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: tern-client negotiate --url URL [--example NAME] [--count N] [-v]\n"
          "       tern-client idle      --url URL [--example NAME] --count N [--seconds S]\n"
          "       tern-client inproc    [--count N] [-v]\n"
          "       tern-client broadcast --url URL --viewers N [--seconds S] [--server-pid PID]\n"
          "\n"
          "  negotiate  N connections one after the other: POST /connections, answer,\n"
          "             POST the answer, wait for the data channel, ping -> pong, DELETE;\n"
          "             prints the median and p95 of each interval\n"
          "  idle       opens N connections and keeps them connected (ICE consent) until\n"
          "             SIGINT/SIGTERM or --seconds; prints 'idle: ready N' once all are up\n"
          "  inproc     server and client roles in this process over loopback UDP, no\n"
          "             HTTP: the cost of offer/answer, ICE, DTLS and SCTP themselves\n"
          "  broadcast  1 broadcaster (/broadcaster) and N viewers (/viewer); the broadcaster\n"
          "             sends audio (50 packets/s) and video (~1 Mbit/s, 30 frames/s); prints\n"
          "             packets sent and received by all viewers per second, loss, and the\n"
          "             server's CPU time per forwarded packet (with --server-pid)\n"
          "\n"
          "  --url URL          the server, http://host:port (default http://127.0.0.1:3000)\n"
          "  --example NAME     the example whose API is used (default ping-pong)\n"
          "  --count N          connections (default 100)\n"
          "  --seconds S        idle: hold for S seconds, then hang up (default: until a signal);\n"
          "                     broadcast: the measuring window (default 10)\n"
          "  --parallel P       idle, broadcast: connections being set up at once (default 8)\n"
          "  --viewers N        broadcast: viewers (1 to 5000)\n"
          "  --server-pid PID   broadcast: read the server's CPU time from /proc/PID/stat\n"
          "  --pause-ms MS      negotiate: pause between runs, so each starts on a quiet\n"
          "                     server (default 20; 0 = back to back)\n"
          "  --timeout-ms MS    deadline of every step (default 5000)\n"
          "  --bind ADDR        local address of the client's UDP sockets (default 127.0.0.1)\n"
          "  -v, --verbose      one line per connection\n"
          "  LOG_LEVEL          the Tern stack's log level on stderr (default warn)\n");
}

void bc_fail(const char *fmt, ...) {
  va_list ap;
  fputs("tern-client: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

static int parse_uint(const char *name, const char *v, unsigned min, unsigned max, unsigned *out) {
  char *end;
  errno = 0;
  unsigned long n = strtoul(v, &end, 10);
  if (errno || end == v || *end || v[0] == '-' || n < min || n > max) {
    bc_fail("%s must be a whole number from %u to %u (got \"%s\")", name, min, max, v);
    return -1;
  }
  *out = (unsigned)n;
  return 0;
}

int bc_client_init(struct bc_client *c, const struct bc_opts *o) {
  char err[256];
  memset(c, 0, sizeof *c);
  uv_loop_init(&c->loop);
  if (o->url && bc_http_parse_url(o->url, &c->target.server, c->target.host,
                                  sizeof c->target.host, err, sizeof err) < 0) {
    bc_fail("%s", err);
    goto err_loop;
  }
  struct tern_media_config mcfg = {.host = o->bind, .port = 0, .announced_ip = NULL,
                                   .consent_timeout_ms = 10000,
                                   .handshake_timeout_ms = o->timeout_ms};
  if (tern_media_init(&c->media, &c->loop, &mcfg, err, sizeof err) < 0) {
    bc_fail("%s", err);
    goto err_loop;
  }
  c->media_ready = true;
  c->target.loop = &c->loop;
  snprintf(c->target.example, sizeof c->target.example, "%s", o->example);
  c->target.step_timeout_ms = o->timeout_ms;
  c->target.env = &c->media.env;
  return 0;

err_loop:
  uv_run(&c->loop, UV_RUN_NOWAIT);
  uv_loop_close(&c->loop);
  return -1;
}

static void close_any(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

void bc_client_finish(struct bc_client *c, struct bc_session *sessions, size_t n) {
  for (size_t i = 0; i < n; i++)
    bc_session_release(&sessions[i]);
  /* Peers free themselves from close callbacks; SCTP associations must be
   * gone before the stack is. A few turns run every pending close. */
  for (int i = 0; i < 4; i++)
    uv_run(&c->loop, UV_RUN_NOWAIT);
  if (c->media_ready)
    tern_media_close(&c->media);
  c->media_ready = false;
  uv_run(&c->loop, UV_RUN_NOWAIT);
  /* Anything still open here is ours (signal handles): close and drain. */
  uv_walk(&c->loop, close_any, NULL);
  uv_run(&c->loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&c->loop) != 0)
    bc_fail("warning: the event loop still had open handles at exit");
}

int main(int argc, char **argv) {
  static const struct option longopts[] = {
      {"url", required_argument, NULL, 'u'},      {"example", required_argument, NULL, 'e'},
      {"count", required_argument, NULL, 'n'},    {"seconds", required_argument, NULL, 's'},
      {"parallel", required_argument, NULL, 'p'}, {"timeout-ms", required_argument, NULL, 't'},
      {"bind", required_argument, NULL, 'b'},     {"verbose", no_argument, NULL, 'v'},
      {"pause-ms", required_argument, NULL, 'P'},   {"viewers", required_argument, NULL, 'V'},
      {"server-pid", required_argument, NULL, 'S'},
      {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
  };
  struct bc_opts o = {.url = "http://127.0.0.1:3000", .example = "ping-pong", .bind = "127.0.0.1",
                      .count = 100, .timeout_ms = 5000, .parallel = 8, .pause_ms = 20};
  int ch;

  if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const char *mode = argv[1];
  optind = 2;
  while ((ch = getopt_long(argc, argv, "u:e:n:s:p:P:t:b:V:S:vh", longopts, NULL)) != -1) {
    switch (ch) {
    case 'u': o.url = optarg; break;
    case 'e': o.example = optarg; break;
    case 'b': o.bind = optarg; break;
    case 'v': o.verbose = true; break;
    case 'n': if (parse_uint("--count", optarg, 1, 100000, &o.count)) return 2; break;
    case 's': if (parse_uint("--seconds", optarg, 0, 86400, &o.seconds)) return 2; break;
    case 'p': if (parse_uint("--parallel", optarg, 1, 1000, &o.parallel)) return 2; break;
    case 't': if (parse_uint("--timeout-ms", optarg, 10, 600000, &o.timeout_ms)) return 2; break;
    case 'P': if (parse_uint("--pause-ms", optarg, 0, 60000, &o.pause_ms)) return 2; break;
    case 'V': if (parse_uint("--viewers", optarg, 1, 5000, &o.viewers)) return 2; break;
    case 'S': {
      unsigned pid;
      if (parse_uint("--server-pid", optarg, 1, INT_MAX, &pid)) return 2;
      o.server_pid = (int)pid;
      break;
    }
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (optind < argc) {
    bc_fail("unexpected argument \"%s\" (see --help)", argv[optind]);
    return 2;
  }
  if (!o.example[0] || strlen(o.example) >= 64 ||
      strspn(o.example, "abcdefghijklmnopqrstuvwxyz0123456789-_") != strlen(o.example)) {
    bc_fail("--example must be a name like ping-pong (got \"%s\")", o.example);
    return 2;
  }
  const char *lvl = getenv("LOG_LEVEL");
  int level = lvl ? tern_log_parse_level(lvl) : TERN_LOG_WARN;
  if (level < 0) {
    bc_fail("LOG_LEVEL must be debug, info, warn, error or off (got \"%s\")", lvl);
    return 2;
  }
  tern_log_set_level(level);

  if (strcmp(mode, "negotiate") == 0)
    return bc_run_negotiate(&o);
  if (strcmp(mode, "idle") == 0)
    return bc_run_idle(&o);
  if (strcmp(mode, "inproc") == 0)
    return bc_run_inproc(&o);
  if (strcmp(mode, "broadcast") == 0) {
    if (!o.seconds)
      o.seconds = 10;
    return bc_run_broadcast(&o);
  }
  bc_fail("unknown mode \"%s\": negotiate, idle, inproc or broadcast (see --help)", mode);
  return 2;
}
