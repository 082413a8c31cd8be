/* config — every setting of the server, from the environment and `.env`.
 *
 * Precedence (as in Beep's backend-webrtc): a variable set in the process
 * environment wins over the same key in the `.env` file, which wins over the
 * built-in default. The file is KEY=VALUE lines with `#` comments, blank
 * lines, an optional `export ` prefix and optional '…' or "…" quotes; keys
 * that are not Tern settings are ignored (the file may be shared).
 *
 * Loading validates every value and stops at the first bad one with ONE line
 * naming the setting, so `tern` fails fast at start instead of misbehaving
 * later. Nothing is written back to the environment (no setenv): the parsed
 * values live only in struct tern_config, which is plain data (fixed-size
 * buffers, no heap), safe to copy and needing no free.
 *
 * The environment lookup is injectable so tests never touch the real one.
 */
#ifndef TERN_CONFIG_H
#define TERN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define TERN_CONFIG_HOST_MAX 64   /* an IP literal or "localhost", NUL incl. */
#define TERN_CONFIG_PATH_MAX 1024
#define TERN_CONFIG_URL_MAX 1024
#define TERN_CONFIG_SECRET_MAX 512

enum tern_auth_mode {
  TERN_AUTH_HEADER = 0, /* trust X-User-Claim as set by the auth proxy */
  TERN_AUTH_JWT = 1,    /* verify an HS256 JWT with SECRET ourselves */
};

/* A parsed host:port. host is "" for "all addresses"; an IPv6 literal is kept
 * without its brackets ("::1"). */
struct tern_hostport {
  char host[TERN_CONFIG_HOST_MAX];
  int port;
};

struct tern_config {
  struct tern_hostport listen;       /* LISTEN, HTTP + WebSocket */
  struct tern_hostport media_listen; /* MEDIA_LISTEN, the one UDP socket */
  char announced_ip[TERN_CONFIG_HOST_MAX]; /* ANNOUNCED_IP, "" = none */
  unsigned time_to_connected_ms;     /* TIME_TO_CONNECTED_MS */
  unsigned time_to_reconnect_ms;     /* TIME_TO_RECONNECT_MS */
  unsigned ice_consent_timeout_ms;   /* ICE_CONSENT_TIMEOUT_MS */
  enum tern_auth_mode auth;          /* AUTH */
  char secret[TERN_CONFIG_SECRET_MAX]; /* SECRET, required when AUTH=jwt */
  bool auth_dev_query;               /* AUTH_DEV_QUERY: ?userid=&clientid=, loopback only */
  char recordings_dir[TERN_CONFIG_PATH_MAX]; /* RECORDINGS_DIR */
  char web_root[TERN_CONFIG_PATH_MAX];       /* WEB_ROOT */
  unsigned max_peers;                /* MAX_PEERS */
  unsigned max_peers_per_ip;         /* MAX_PEERS_PER_IP */
  size_t max_body_bytes;             /* MAX_BODY_BYTES, HTTP bodies and WS messages */
  unsigned http_max_connections;     /* HTTP_MAX_CONNECTIONS */
  unsigned http_max_connections_per_ip; /* HTTP_MAX_CONNECTIONS_PER_IP */
  int log_level;                     /* LOG_LEVEL as enum tern_log_level */
  char permissions_host[TERN_CONFIG_URL_MAX]; /* PERMISSIONS_HOST, "" = no check; no trailing '/' */
  char nats[TERN_CONFIG_URL_MAX];    /* NATS, "" = no publishing */
};

/* Looks a variable up in "the environment"; NULL when unset. */
typedef const char *(*tern_getenv_fn)(const char *name, void *user);

/* Fills *c with the defaults only (never fails). */
void tern_config_defaults(struct tern_config *c);

/* Loads defaults, then env_file (NULL = no file; a missing file is fine),
 * then the environment through getenv_fn. Returns 0, or a negative errno
 * with one line in err (no trailing newline): -EINVAL for a bad value,
 * -EIO for an unreadable file, -EBADMSG for a malformed line. On failure *c
 * holds defaults plus whatever parsed before the bad value. */
int tern_config_load_from(struct tern_config *c, const char *env_file,
                          tern_getenv_fn getenv_fn, void *getenv_user,
                          char *err, size_t errcap);

/* The same with the real process environment (getenv). */
int tern_config_load(struct tern_config *c, const char *env_file, char *err,
                     size_t errcap);

/* Parses "host:port", ":port", "[v6]:port" (port 1..65535; host an IPv4 or
 * IPv6 literal or "localhost"). 0 or -EINVAL. Exposed for tests. */
int tern_config_parse_hostport(const char *s, struct tern_hostport *out);

/* Formats hp as "host:port", "[v6]:port" or ":port" into buf. */
const char *tern_config_hostport_str(const struct tern_hostport *hp, char *buf,
                                     size_t cap);

/* Every variable, its default and meaning; for `tern --help`. */
void tern_config_print_help(FILE *out);

#endif
