#include "core/config.h"

#include "core/log.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One row per setting: the table drives defaults, parsing and --help so the
 * three can never disagree. parse() gets a NUL-terminated value and writes
 * one line (without the "NAME: " prefix) into err on failure. */
struct setting {
  const char *name;
  const char *def;
  const char *help;
  int (*parse)(struct tern_config *c, const char *v, char *err, size_t cap);
};

#define ENV_FILE_MAX (1u << 20)  /* a .env bigger than this is not a .env */
#define ENV_LINE_MAX 4096

static void errf(char *err, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t cap, const char *fmt, ...) {
  if (!err || !cap)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, cap, fmt, ap);
  va_end(ap);
}

/* Strict unsigned decimal: digits only, no sign, no spaces, no overflow. */
static int parse_uint(const char *v, unsigned long long lo,
                      unsigned long long hi, unsigned long long *out) {
  if (!*v || strlen(v) > 19)
    return -EINVAL;
  unsigned long long n = 0;
  for (const char *p = v; *p; p++) {
    if (*p < '0' || *p > '9')
      return -EINVAL;
    n = n * 10 + (unsigned long long)(*p - '0');
  }
  if (n < lo || n > hi)
    return -EINVAL;
  *out = n;
  return 0;
}

static bool copy_str(char *dst, size_t cap, const char *v) {
  size_t n = strlen(v);
  if (n >= cap)
    return false;
  memcpy(dst, v, n + 1);
  return true;
}

static bool is_ip_literal(const char *s) {
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int tern_config_parse_hostport(const char *s, struct tern_hostport *out) {
  const char *colon, *host = s;
  size_t hlen;
  if (s[0] == '[') {
    const char *close = strchr(s, ']');
    if (!close || close[1] != ':')
      return -EINVAL;
    host = s + 1;
    hlen = (size_t)(close - host);
    colon = close + 1;
    if (hlen == 0)
      return -EINVAL;
  } else {
    colon = strrchr(s, ':');
    if (!colon)
      return -EINVAL;
    hlen = (size_t)(colon - s);
    if (memchr(s, ':', hlen)) /* a bare IPv6 literal needs brackets */
      return -EINVAL;
  }
  unsigned long long port;
  if (parse_uint(colon + 1, 1, 65535, &port) < 0)
    return -EINVAL;
  if (hlen >= sizeof out->host)
    return -EINVAL;
  char h[TERN_CONFIG_HOST_MAX];
  memcpy(h, host, hlen);
  h[hlen] = '\0';
  if (hlen && strcmp(h, "localhost") != 0 && !is_ip_literal(h))
    return -EINVAL;
  if (s[0] == '[') { /* brackets are for IPv6 only */
    unsigned char b6[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET6, h, b6) != 1)
      return -EINVAL;
  }
  memcpy(out->host, h, hlen + 1);
  out->port = (int)port;
  return 0;
}

const char *tern_config_hostport_str(const struct tern_hostport *hp, char *buf,
                                     size_t cap) {
  if (!hp->host[0])
    snprintf(buf, cap, ":%d", hp->port);
  else if (strchr(hp->host, ':'))
    snprintf(buf, cap, "[%s]:%d", hp->host, hp->port);
  else
    snprintf(buf, cap, "%s:%d", hp->host, hp->port);
  return buf;
}

/* ---- per-setting parsers ---- */

static int p_hostport(struct tern_hostport *hp, const char *v, char *err,
                      size_t cap) {
  if (tern_config_parse_hostport(v, hp) < 0) {
    errf(err, cap,
         "\"%s\" is not host:port (e.g. \":3000\", \"127.0.0.1:3000\", "
         "\"[::1]:3000\"; port 1..65535, host an IP address or localhost)",
         v);
    return -EINVAL;
  }
  return 0;
}
static int p_listen(struct tern_config *c, const char *v, char *e, size_t n) {
  return p_hostport(&c->listen, v, e, n);
}
static int p_media(struct tern_config *c, const char *v, char *e, size_t n) {
  return p_hostport(&c->media_listen, v, e, n);
}

static int p_announced(struct tern_config *c, const char *v, char *e,
                       size_t n) {
  if (*v && (strlen(v) >= sizeof c->announced_ip || !is_ip_literal(v))) {
    errf(e, n, "\"%s\" is not an IPv4 or IPv6 address", v);
    return -EINVAL;
  }
  copy_str(c->announced_ip, sizeof c->announced_ip, v);
  return 0;
}

static int p_ms(unsigned *out, const char *v, char *e, size_t n) {
  unsigned long long x;
  if (parse_uint(v, 1, 3600000, &x) < 0) {
    errf(e, n, "\"%s\" is not a whole number of milliseconds (1..3600000)", v);
    return -EINVAL;
  }
  *out = (unsigned)x;
  return 0;
}
static int p_ttc(struct tern_config *c, const char *v, char *e, size_t n) {
  return p_ms(&c->time_to_connected_ms, v, e, n);
}
static int p_ttr(struct tern_config *c, const char *v, char *e, size_t n) {
  return p_ms(&c->time_to_reconnect_ms, v, e, n);
}
static int p_consent(struct tern_config *c, const char *v, char *e, size_t n) {
  return p_ms(&c->ice_consent_timeout_ms, v, e, n);
}

static int p_auth(struct tern_config *c, const char *v, char *e, size_t n) {
  if (strcmp(v, "header") == 0)
    c->auth = TERN_AUTH_HEADER;
  else if (strcmp(v, "jwt") == 0)
    c->auth = TERN_AUTH_JWT;
  else {
    errf(e, n, "\"%s\" is not one of header, jwt", v);
    return -EINVAL;
  }
  return 0;
}

static int p_secret(struct tern_config *c, const char *v, char *e, size_t n) {
  if (!copy_str(c->secret, sizeof c->secret, v)) {
    errf(e, n, "longer than %zu bytes", sizeof c->secret - 1);
    return -EINVAL;
  }
  return 0;
}

static int p_dev_query(struct tern_config *c, const char *v, char *e,
                       size_t n) {
  if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
    c->auth_dev_query = false;
  else if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
    c->auth_dev_query = true;
  else {
    errf(e, n, "\"%s\" is not 0 or 1", v);
    return -EINVAL;
  }
  return 0;
}

static int p_path(char *dst, size_t cap, const char *v, char *e, size_t n) {
  if (!*v) {
    errf(e, n, "must not be empty");
    return -EINVAL;
  }
  if (!copy_str(dst, cap, v)) {
    errf(e, n, "path longer than %zu bytes", cap - 1);
    return -EINVAL;
  }
  return 0;
}
static int p_rec(struct tern_config *c, const char *v, char *e, size_t n) {
  return p_path(c->recordings_dir, sizeof c->recordings_dir, v, e, n);
}
static int p_web(struct tern_config *c, const char *v, char *e, size_t n) {
  return p_path(c->web_root, sizeof c->web_root, v, e, n);
}

static int p_count(unsigned *out, const char *v, unsigned long long hi,
                   char *e, size_t n) {
  unsigned long long x;
  if (parse_uint(v, 1, hi, &x) < 0) {
    errf(e, n, "\"%s\" is not a whole number (1..%llu)", v, hi);
    return -EINVAL;
  }
  *out = (unsigned)x;
  return 0;
}
static int p_max_peers(struct tern_config *c, const char *v, char *e,
                       size_t n) {
  return p_count(&c->max_peers, v, 1000000, e, n);
}
static int p_max_peers_ip(struct tern_config *c, const char *v, char *e,
                          size_t n) {
  return p_count(&c->max_peers_per_ip, v, 1000000, e, n);
}
static int p_http_conns(struct tern_config *c, const char *v, char *e,
                        size_t n) {
  return p_count(&c->http_max_connections, v, 1000000, e, n);
}
static int p_http_conns_ip(struct tern_config *c, const char *v, char *e,
                           size_t n) {
  return p_count(&c->http_max_connections_per_ip, v, 1000000, e, n);
}

static int p_body(struct tern_config *c, const char *v, char *e, size_t n) {
  unsigned long long x;
  /* Below 1 KiB no SDP fits; above 64 MiB one client could hold a lot of
   * memory per connection. */
  if (parse_uint(v, 1024, 64ull << 20, &x) < 0) {
    errf(e, n, "\"%s\" is not a whole number of bytes (1024..67108864)", v);
    return -EINVAL;
  }
  c->max_body_bytes = (size_t)x;
  return 0;
}

static int p_log(struct tern_config *c, const char *v, char *e, size_t n) {
  int l = tern_log_parse_level(v);
  if (l < 0) {
    errf(e, n, "\"%s\" is not one of debug, info, warn, error, off", v);
    return -EINVAL;
  }
  c->log_level = l;
  return 0;
}

static bool url_chars_ok(const char *v) {
  for (const unsigned char *p = (const unsigned char *)v; *p; p++)
    if (*p <= ' ' || *p >= 0x7f)
      return false;
  return true;
}

static int p_perm(struct tern_config *c, const char *v, char *e, size_t n) {
  if (!*v) {
    c->permissions_host[0] = '\0';
    return 0;
  }
  size_t len = strlen(v);
  bool scheme = strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0;
  size_t pre = strncmp(v, "https://", 8) == 0 ? 8 : 7;
  if (!scheme || len <= pre || !url_chars_ok(v) ||
      len >= sizeof c->permissions_host) {
    errf(e, n, "\"%s\" is not an http:// or https:// URL", v);
    return -EINVAL;
  }
  memcpy(c->permissions_host, v, len + 1);
  /* Paths are appended as "/user/…", so a trailing slash would double. */
  while (len > pre && c->permissions_host[len - 1] == '/')
    c->permissions_host[--len] = '\0';
  return 0;
}

static int p_nats(struct tern_config *c, const char *v, char *e, size_t n) {
  if (!*v) {
    c->nats[0] = '\0';
    return 0;
  }
  bool scheme = strncmp(v, "nats://", 7) == 0 || strncmp(v, "tls://", 6) == 0;
  if (!scheme || !url_chars_ok(v) || strlen(v) >= sizeof c->nats ||
      !strchr(v, '/')[2]) {
    errf(e, n, "\"%s\" is not a nats:// or tls:// URL", v);
    return -EINVAL;
  }
  copy_str(c->nats, sizeof c->nats, v);
  return 0;
}

static const struct setting settings[] = {
    {"LISTEN", ":80", "HTTP + WebSocket host:port; \":port\" = all addresses, "
     "\"[::1]:3000\" for IPv6", p_listen},
    {"MEDIA_LISTEN", ":7882", "UDP host:port of the one socket carrying every "
     "peer's media (STUN, DTLS, SRTP, SCTP)", p_media},
    {"ANNOUNCED_IP", "", "IP address put in ICE candidates when behind NAT; "
     "empty = the machine's own addresses", p_announced},
    {"TIME_TO_CONNECTED_MS", "10000", "REST connections: close one not "
     "ICE-connected within this time", p_ttc},
    {"TIME_TO_RECONNECT_MS", "10000", "REST connections: close one whose ICE "
     "stays disconnected/failed this long", p_ttr},
    {"ICE_CONSENT_TIMEOUT_MS", "10000", "ICE consent freshness: a peer "
     "silent this long is disconnected (RFC 7675)", p_consent},
    {"AUTH", "header", "header: trust X-User-Claim from the auth proxy; "
     "jwt: verify an HS256 token with SECRET", p_auth},
    {"SECRET", "", "HS256 key for AUTH=jwt (required then)", p_secret},
    {"AUTH_DEV_QUERY", "0", "1 = development only: accept ?userid=&clientid= "
     "from loopback addresses", p_dev_query},
    {"RECORDINGS_DIR", "./recordings", "where recordings are written",
     p_rec},
    {"WEB_ROOT", "./web", "directory of the example pages served at /",
     p_web},
    {"MAX_PEERS", "1000", "peer connections at most, in total", p_max_peers},
    {"MAX_PEERS_PER_IP", "50", "peer connections at most per client IP",
     p_max_peers_ip},
    {"MAX_BODY_BYTES", "65536", "largest HTTP body or WebSocket message "
     "(413 / close 1009 beyond)", p_body},
    {"HTTP_MAX_CONNECTIONS", "4096", "open HTTP/WebSocket connections at "
     "most", p_http_conns},
    {"HTTP_MAX_CONNECTIONS_PER_IP", "256", "open HTTP/WebSocket connections "
     "at most per client IP", p_http_conns_ip},
    {"LOG_LEVEL", "info", "debug, info, warn, error or off", p_log},
    {"PERMISSIONS_HOST", "", "if set, POST /join asks GET <this>/user/:userid/"
     "conversation/:id for a 2xx", p_perm},
    {"NATS", "", "if set (nats://host:port), publish conversation audio "
     "there", p_nats},
};
#define N_SETTINGS (sizeof settings / sizeof settings[0])

static int find_setting(const char *key) {
  for (size_t i = 0; i < N_SETTINGS; i++)
    if (strcmp(settings[i].name, key) == 0)
      return (int)i;
  return -1;
}

void tern_config_defaults(struct tern_config *c) {
  memset(c, 0, sizeof *c);
  char scratch[8];
  for (size_t i = 0; i < N_SETTINGS; i++) {
    int rc = settings[i].parse(c, settings[i].def, scratch, sizeof scratch);
    (void)rc; /* the built-in defaults are valid by construction (tested) */
  }
}

/* ---- .env parsing ---- */

/* Parses one line in place. Sets *key and *val (NULL key = nothing on this
 * line). Returns 0 or -EBADMSG with a reason in err. */
static int parse_env_line(char *line, char **key, char **val, char *err,
                          size_t cap) {
  *key = *val = NULL;
  char *p = line;
  while (*p == ' ' || *p == '\t')
    p++;
  if (!*p || *p == '#')
    return 0;
  if (strncmp(p, "export", 6) == 0 && (p[6] == ' ' || p[6] == '\t')) {
    p += 6;
    while (*p == ' ' || *p == '\t')
      p++;
  }
  char *eq = strchr(p, '=');
  if (!eq) {
    errf(err, cap, "expected KEY=VALUE");
    return -EBADMSG;
  }
  char *kend = eq;
  while (kend > p && (kend[-1] == ' ' || kend[-1] == '\t'))
    kend--;
  *kend = '\0';
  if (!*p || !(isalpha((unsigned char)*p) || *p == '_')) {
    errf(err, cap, "expected KEY=VALUE with a variable name before '='");
    return -EBADMSG;
  }
  for (char *k = p; *k; k++)
    if (!isalnum((unsigned char)*k) && *k != '_') {
      errf(err, cap, "\"%s\" is not a variable name", p);
      return -EBADMSG;
    }
  char *v = eq + 1;
  while (*v == ' ' || *v == '\t')
    v++;
  char *rest;
  if (*v == '"' || *v == '\'') {
    char q = *v++;
    char *w = v, *r = v;
    /* Double quotes allow \" \\ \n escapes; single quotes are literal. */
    while (*r && *r != q) {
      if (q == '"' && *r == '\\' && (r[1] == '"' || r[1] == '\\' || r[1] == 'n')) {
        *w++ = r[1] == 'n' ? '\n' : r[1];
        r += 2;
      } else {
        *w++ = *r++;
      }
    }
    if (*r != q) {
      errf(err, cap, "unterminated %c quote", q);
      return -EBADMSG;
    }
    rest = r + 1;
    *w = '\0';
    while (*rest == ' ' || *rest == '\t')
      rest++;
    if (*rest && *rest != '#') {
      errf(err, cap, "unexpected text after the closing quote");
      return -EBADMSG;
    }
  } else {
    /* Unquoted: a '#' after whitespace starts a comment. */
    char *end = v;
    for (; *end; end++)
      if (*end == '#' && (end == v || end[-1] == ' ' || end[-1] == '\t'))
        break;
    *end = '\0';
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
      *--end = '\0';
  }
  /* Errors echo values, and config.h promises one line: no setting needs a
   * control character, so a decoded "\n" (or any other) is refused here. */
  for (const char *c = v; *c; c++)
    if ((unsigned char)*c < 0x20 || *c == 0x7f) {
      errf(err, cap, "the value of %s contains a control character", p);
      return -EBADMSG;
    }
  *key = p;
  *val = v;
  return 0;
}

/* Reads the whole file (bounded) and applies known keys into file_vals.
 * Values point into *bufp, which the caller frees. */
static int read_env_file(const char *path, char **bufp,
                         const char *file_vals[N_SETTINGS], char *err,
                         size_t cap) {
  *bufp = NULL;
  FILE *f = fopen(path, "r");
  if (!f) {
    if (errno == ENOENT)
      return 0;
    errf(err, cap, "%s: cannot read: %s", path, strerror(errno));
    return -EIO;
  }
  char *buf = malloc(ENV_FILE_MAX + 1);
  if (!buf) {
    fclose(f);
    errf(err, cap, "%s: out of memory", path);
    return -ENOMEM;
  }
  size_t n = fread(buf, 1, ENV_FILE_MAX + 1, f);
  int rerr = ferror(f);
  fclose(f);
  if (rerr) {
    free(buf);
    errf(err, cap, "%s: cannot read: %s", path, strerror(EIO));
    return -EIO;
  }
  if (n > ENV_FILE_MAX) {
    free(buf);
    errf(err, cap, "%s: larger than %u bytes", path, ENV_FILE_MAX);
    return -EBADMSG;
  }
  buf[n] = '\0';
  if (memchr(buf, '\0', n)) {
    free(buf);
    errf(err, cap, "%s: contains a NUL byte", path);
    return -EBADMSG;
  }
  *bufp = buf;
  char *line = buf;
  for (unsigned lineno = 1; line; lineno++) {
    char *nl = strchr(line, '\n');
    if (nl)
      *nl = '\0';
    size_t len = strlen(line);
    if (len && line[len - 1] == '\r') /* files edited on Windows */
      line[--len] = '\0';
    char why[160], *key, *val;
    if (len > ENV_LINE_MAX) {
      errf(err, cap, "%s:%u: line longer than %u bytes", path, lineno,
           ENV_LINE_MAX);
      return -EBADMSG;
    }
    if (parse_env_line(line, &key, &val, why, sizeof why) < 0) {
      errf(err, cap, "%s:%u: %s", path, lineno, why);
      return -EBADMSG;
    }
    if (key) {
      int i = find_setting(key);
      if (i >= 0)
        file_vals[i] = val; /* a later line overrides an earlier one */
    }
    line = nl ? nl + 1 : NULL;
  }
  return 0;
}

int tern_config_load_from(struct tern_config *c, const char *env_file,
                          tern_getenv_fn getenv_fn, void *getenv_user,
                          char *err, size_t errcap) {
  const char *file_vals[N_SETTINGS] = {0};
  char *buf = NULL;
  int rc = 0;
  tern_config_defaults(c);
  if (err && errcap)
    err[0] = '\0';
  if (env_file && (rc = read_env_file(env_file, &buf, file_vals, err, errcap)))
    goto free_buf;
  for (size_t i = 0; i < N_SETTINGS; i++) {
    const char *v = getenv_fn ? getenv_fn(settings[i].name, getenv_user) : NULL;
    const char *src = v ? "" : env_file;
    if (!v)
      v = file_vals[i];
    if (!v)
      continue;
    char why[TERN_CONFIG_URL_MAX + 200];
    if (settings[i].parse(c, v, why, sizeof why) < 0) {
      /* Naming where the value came from saves a hunt through files. */
      if (src && *src)
        errf(err, errcap, "%s: %s (from %s)", settings[i].name, why, src);
      else
        errf(err, errcap, "%s: %s", settings[i].name, why);
      rc = -EINVAL;
      goto free_buf;
    }
  }
  if (c->auth == TERN_AUTH_JWT && !c->secret[0]) {
    errf(err, errcap, "SECRET: required when AUTH=jwt (the HS256 key)");
    rc = -EINVAL;
  }
free_buf:
  free(buf);
  return rc;
}

static const char *real_getenv(const char *name, void *user) {
  (void)user;
  return getenv(name);
}

int tern_config_load(struct tern_config *c, const char *env_file, char *err,
                     size_t errcap) {
  return tern_config_load_from(c, env_file, real_getenv, NULL, err, errcap);
}

void tern_config_print_help(FILE *out) {
  fprintf(out,
          "Settings come from the environment; a .env file in the working "
          "directory\nis read first (variables already set in the "
          "environment win).\n\n");
  for (size_t i = 0; i < N_SETTINGS; i++) {
    char def[64];
    snprintf(def, sizeof def, "%s", *settings[i].def ? settings[i].def : "(unset)");
    fprintf(out, "  %-28s default %-14s %s\n", settings[i].name, def,
            settings[i].help);
  }
}
