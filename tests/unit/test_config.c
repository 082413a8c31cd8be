/* Tests for core/config: defaults, .env parsing, precedence, every bad value. */
#include "core/config.h"
#include "core/log.h"
#include "test.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

/* A fake environment: NULL-terminated "KEY=VALUE" array. */
static const char *fake_getenv(const char *name, void *user) {
  const char **env = user;
  size_t n = strlen(name);
  for (; env && *env; env++)
    if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
      return *env + n + 1;
  return NULL;
}

static char tmpdir[64];

static const char *write_file(const char *name, const char *content) {
  static char path[128];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  FILE *f = fopen(path, "w");
  if (!f)
    return NULL;
  fputs(content, f);
  fclose(f);
  return path;
}

static int load(struct tern_config *c, const char *file, const char **env,
                char *err, size_t cap) {
  return tern_config_load_from(c, file, fake_getenv, env, err, cap);
}

static void test_defaults(void) {
  struct tern_config c;
  char err[256];
  const char *env[] = {NULL};
  REQUIRE(load(&c, NULL, env, err, sizeof err) == 0);
  CHECK_EQ_STR(c.listen.host, "");
  CHECK_EQ_INT(c.listen.port, 80);
  CHECK_EQ_STR(c.media_listen.host, "");
  CHECK_EQ_INT(c.media_listen.port, 7882);
  CHECK_EQ_STR(c.announced_ip, "");
  CHECK_EQ_INT(c.time_to_connected_ms, 10000);
  CHECK_EQ_INT(c.time_to_reconnect_ms, 10000);
  CHECK_EQ_INT(c.ice_consent_timeout_ms, 10000);
  CHECK_EQ_INT(c.auth, TERN_AUTH_HEADER);
  CHECK_EQ_STR(c.secret, "");
  CHECK(!c.auth_dev_query);
  CHECK_EQ_STR(c.recordings_dir, "./recordings");
  CHECK_EQ_STR(c.web_root, "./web");
  CHECK_EQ_INT(c.max_peers, 1000);
  CHECK_EQ_INT(c.max_peers_per_ip, 50);
  CHECK_EQ_INT(c.max_body_bytes, 65536);
  CHECK_EQ_INT(c.http_max_connections, 4096);
  CHECK_EQ_INT(c.http_max_connections_per_ip, 256);
  CHECK_EQ_INT(c.log_level, TERN_LOG_INFO);
  CHECK_EQ_STR(c.permissions_host, "");
  CHECK_EQ_STR(c.nats, "");
  /* tern_config_defaults gives the same thing. */
  struct tern_config d;
  tern_config_defaults(&d);
  CHECK(memcmp(&c, &d, sizeof c) == 0);
  /* A missing .env file is fine. */
  CHECK_EQ_INT(load(&c, "/nonexistent/dir/.env", env, err, sizeof err), 0);
}

static void test_env_file(void) {
  const char *path = write_file(
      "env1",
      "# a comment\n"
      "\n"
      "   # indented comment\n"
      "LISTEN=:3000\n"
      "export MEDIA_LISTEN = 127.0.0.1:5000   # trailing comment\n"
      "WEB_ROOT=\"/srv/my web\"  # quoted, with a space\n"
      "RECORDINGS_DIR='/tmp/a#b'\n"
      "SECRET=\"q\\\"uote\"\n"
      "AUTH=jwt\r\n"
      "UNRELATED_THING=whatever\n"
      "PERMISSIONS_HOST=http://perm.local:8080/\n"
      "LOG_LEVEL=debug\n"
      "LOG_LEVEL=warn\n"
      "MAX_PEERS=7");
  REQUIRE(path);
  struct tern_config c;
  char err[256] = "";
  const char *env[] = {NULL};
  int rc = load(&c, path, env, err, sizeof err);
  if (rc)
    fprintf(stderr, "err: %s\n", err);
  REQUIRE(rc == 0);
  CHECK_EQ_INT(c.listen.port, 3000);
  CHECK_EQ_STR(c.listen.host, "");
  CHECK_EQ_STR(c.media_listen.host, "127.0.0.1");
  CHECK_EQ_INT(c.media_listen.port, 5000);
  CHECK_EQ_STR(c.web_root, "/srv/my web");
  CHECK_EQ_STR(c.recordings_dir, "/tmp/a#b");
  CHECK_EQ_STR(c.secret, "q\"uote");
  CHECK_EQ_INT(c.auth, TERN_AUTH_JWT);
  CHECK_EQ_STR(c.permissions_host, "http://perm.local:8080");
  CHECK_EQ_INT(c.log_level, TERN_LOG_WARN); /* the later line wins */
  CHECK_EQ_INT(c.max_peers, 7);              /* no final newline */
}

static void test_env_overrides_file(void) {
  const char *path = write_file("env2", "LISTEN=:3000\nMAX_PEERS=abc\n");
  REQUIRE(path);
  struct tern_config c;
  char err[256] = "";
  /* The environment wins, even over a bad value in the file. */
  const char *env[] = {"LISTEN=127.0.0.1:4000", "MAX_PEERS=12", NULL};
  REQUIRE(load(&c, path, env, err, sizeof err) == 0);
  CHECK_EQ_STR(c.listen.host, "127.0.0.1");
  CHECK_EQ_INT(c.listen.port, 4000);
  CHECK_EQ_INT(c.max_peers, 12);
  /* Without the override, the file's bad value is reported with its source. */
  const char *env2[] = {NULL};
  CHECK_EQ_INT(load(&c, path, env2, err, sizeof err), -EINVAL);
  char want[256];
  snprintf(want, sizeof want,
           "MAX_PEERS: \"abc\" is not a whole number (1..1000000) (from %s)",
           path);
  CHECK_EQ_STR(err, want);
  /* An empty value in the environment is "set": it wins and is checked. */
  const char *env3[] = {"LISTEN=", NULL};
  CHECK_EQ_INT(load(&c, NULL, env3, err, sizeof err), -EINVAL);
  CHECK(strncmp(err, "LISTEN: \"\" is not host:port (", 28) == 0);
}

static void test_malformed_file(void) {
  struct tern_config c;
  char err[256] = "", want[256];
  const char *env[] = {NULL};
  const char *path = write_file("env3", "# ok\nLISTEN=:3000\nJUSTAWORD\n");
  REQUIRE(path);
  CHECK_EQ_INT(load(&c, path, env, err, sizeof err), -EBADMSG);
  snprintf(want, sizeof want, "%s:3: expected KEY=VALUE", path);
  CHECK_EQ_STR(err, want);

  path = write_file("env4", "WEB_ROOT=\"/unterminated\n");
  CHECK_EQ_INT(load(&c, path, env, err, sizeof err), -EBADMSG);
  snprintf(want, sizeof want, "%s:1: unterminated \" quote", path);
  CHECK_EQ_STR(err, want);

  path = write_file("env5", "=value\n");
  CHECK_EQ_INT(load(&c, path, env, err, sizeof err), -EBADMSG);
  CHECK(strstr(err, ":1: expected KEY=VALUE with a variable name") != NULL);

  path = write_file("env6", "BAD-NAME=1\n");
  CHECK_EQ_INT(load(&c, path, env, err, sizeof err), -EBADMSG);
  CHECK(strstr(err, ":1: \"BAD-NAME\" is not a variable name") != NULL);

  path = write_file("env7", "SECRET='x' trailing\n");
  CHECK_EQ_INT(load(&c, path, env, err, sizeof err), -EBADMSG);
  CHECK(strstr(err, ":1: unexpected text after the closing quote") != NULL);

  /* A directory where the file should be is unreadable, not "missing". */
  CHECK_EQ_INT(load(&c, tmpdir, env, err, sizeof err), -EIO);
  CHECK(strncmp(err, tmpdir, strlen(tmpdir)) == 0);
}

static void test_bad_values(void) {
  static const struct {
    const char *kv;
    const char *msg;
  } cases[] = {
      {"LISTEN=3000", "LISTEN: \"3000\" is not host:port (e.g. \":3000\", "
       "\"127.0.0.1:3000\", \"[::1]:3000\"; port 1..65535, host an IP address "
       "or localhost)"},
      {"MEDIA_LISTEN=:0", "MEDIA_LISTEN: \":0\" is not host:port (e.g. "
       "\":3000\", \"127.0.0.1:3000\", \"[::1]:3000\"; port 1..65535, host an "
       "IP address or localhost)"},
      {"ANNOUNCED_IP=example.com",
       "ANNOUNCED_IP: \"example.com\" is not an IPv4 or IPv6 address"},
      {"TIME_TO_CONNECTED_MS=abc", "TIME_TO_CONNECTED_MS: \"abc\" is not a "
       "whole number of milliseconds (1..3600000)"},
      {"TIME_TO_RECONNECT_MS=0", "TIME_TO_RECONNECT_MS: \"0\" is not a whole "
       "number of milliseconds (1..3600000)"},
      {"TIME_TO_RECONNECT_MS=-5", "TIME_TO_RECONNECT_MS: \"-5\" is not a "
       "whole number of milliseconds (1..3600000)"},
      {"ICE_CONSENT_TIMEOUT_MS=3600001", "ICE_CONSENT_TIMEOUT_MS: \"3600001\" "
       "is not a whole number of milliseconds (1..3600000)"},
      {"AUTH=basic", "AUTH: \"basic\" is not one of header, jwt"},
      {"AUTH=jwt", "SECRET: required when AUTH=jwt (the HS256 key)"},
      {"AUTH_DEV_QUERY=yes", "AUTH_DEV_QUERY: \"yes\" is not 0 or 1"},
      {"RECORDINGS_DIR=", "RECORDINGS_DIR: must not be empty"},
      {"WEB_ROOT=", "WEB_ROOT: must not be empty"},
      {"MAX_PEERS=0", "MAX_PEERS: \"0\" is not a whole number (1..1000000)"},
      {"MAX_PEERS_PER_IP=1e3",
       "MAX_PEERS_PER_IP: \"1e3\" is not a whole number (1..1000000)"},
      {"MAX_BODY_BYTES=100", "MAX_BODY_BYTES: \"100\" is not a whole number "
       "of bytes (1024..67108864)"},
      {"MAX_BODY_BYTES=99999999999999999999999", "MAX_BODY_BYTES: "
       "\"99999999999999999999999\" is not a whole number of bytes "
       "(1024..67108864)"},
      {"HTTP_MAX_CONNECTIONS= 5", "HTTP_MAX_CONNECTIONS: \" 5\" is not a "
       "whole number (1..1000000)"},
      {"HTTP_MAX_CONNECTIONS_PER_IP=x", "HTTP_MAX_CONNECTIONS_PER_IP: \"x\" "
       "is not a whole number (1..1000000)"},
      {"LOG_LEVEL=verbose", "LOG_LEVEL: \"verbose\" is not one of debug, "
       "info, warn, error, off"},
      {"PERMISSIONS_HOST=perm.local", "PERMISSIONS_HOST: \"perm.local\" is "
       "not an http:// or https:// URL"},
      {"PERMISSIONS_HOST=http://", "PERMISSIONS_HOST: \"http://\" is not an "
       "http:// or https:// URL"},
      {"NATS=localhost:4222",
       "NATS: \"localhost:4222\" is not a nats:// or tls:// URL"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct tern_config c;
    char err[512] = "";
    const char *env[] = {cases[i].kv, NULL};
    CHECK_EQ_INT(load(&c, NULL, env, err, sizeof err), -EINVAL);
    CHECK_EQ_STR(err, cases[i].msg);
    CHECK(strchr(err, '\n') == NULL);
  }
}

static void test_good_values(void) {
  struct tern_config c;
  char err[256] = "";
  const char *env[] = {"AUTH=jwt", "SECRET=s3cret", "AUTH_DEV_QUERY=1",
                       "ANNOUNCED_IP=2001:db8::1", "NATS=nats://n:4222",
                       "PERMISSIONS_HOST=https://p.example", NULL};
  REQUIRE(load(&c, NULL, env, err, sizeof err) == 0);
  CHECK_EQ_INT(c.auth, TERN_AUTH_JWT);
  CHECK_EQ_STR(c.secret, "s3cret");
  CHECK(c.auth_dev_query);
  CHECK_EQ_STR(c.announced_ip, "2001:db8::1");
  CHECK_EQ_STR(c.nats, "nats://n:4222");
  CHECK_EQ_STR(c.permissions_host, "https://p.example");
}

static void test_listen_forms(void) {
  static const struct {
    const char *in;
    int ok;
    const char *host;
    int port;
    const char *str;
  } cases[] = {
      {":80", 1, "", 80, ":80"},
      {":3000", 1, "", 3000, ":3000"},
      {"127.0.0.1:3999", 1, "127.0.0.1", 3999, "127.0.0.1:3999"},
      {"0.0.0.0:1", 1, "0.0.0.0", 1, "0.0.0.0:1"},
      {"[::1]:3000", 1, "::1", 3000, "[::1]:3000"},
      {"[::]:65535", 1, "::", 65535, "[::]:65535"},
      {"localhost:8080", 1, "localhost", 8080, "localhost:8080"},
      {"::1:3000", 0, NULL, 0, NULL},         /* IPv6 needs brackets */
      {"[127.0.0.1]:3000", 0, NULL, 0, NULL}, /* brackets are for IPv6 */
      {"[::1]3000", 0, NULL, 0, NULL},
      {"[]:3000", 0, NULL, 0, NULL},
      {":65536", 0, NULL, 0, NULL},
      {":", 0, NULL, 0, NULL},
      {"3000", 0, NULL, 0, NULL},
      {"example.com:80", 0, NULL, 0, NULL},
      {"1.2.3:80", 0, NULL, 0, NULL},
      {":80x", 0, NULL, 0, NULL},
      {":+80", 0, NULL, 0, NULL},
      {"", 0, NULL, 0, NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct tern_hostport hp;
    int rc = tern_config_parse_hostport(cases[i].in, &hp);
    if (!cases[i].ok) {
      CHECK_EQ_INT(rc, -EINVAL);
      continue;
    }
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_STR(hp.host, cases[i].host);
    CHECK_EQ_INT(hp.port, cases[i].port);
    char buf[80];
    CHECK_EQ_STR(tern_config_hostport_str(&hp, buf, sizeof buf), cases[i].str);
  }
}

static void test_help(void) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  REQUIRE(f);
  tern_config_print_help(f);
  fclose(f);
  static const char *names[] = {
      "LISTEN", "MEDIA_LISTEN", "ANNOUNCED_IP", "TIME_TO_CONNECTED_MS",
      "TIME_TO_RECONNECT_MS", "ICE_CONSENT_TIMEOUT_MS", "AUTH", "SECRET",
      "AUTH_DEV_QUERY", "RECORDINGS_DIR", "WEB_ROOT", "MAX_PEERS",
      "MAX_PEERS_PER_IP", "MAX_BODY_BYTES", "HTTP_MAX_CONNECTIONS",
      "HTTP_MAX_CONNECTIONS_PER_IP", "LOG_LEVEL", "PERMISSIONS_HOST", "NATS"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char pat[64];
    snprintf(pat, sizeof pat, "  %s ", names[i]);
    CHECK(strstr(text, pat) != NULL);
  }
  CHECK(strstr(text, "default :80 ") != NULL);
  free(text);
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/tern_test_config_XXXXXX");
  if (!mkdtemp(tmpdir))
    return 1;
  RUN(test_defaults);
  RUN(test_env_file);
  RUN(test_env_overrides_file);
  RUN(test_malformed_file);
  RUN(test_bad_values);
  RUN(test_good_values);
  RUN(test_listen_forms);
  RUN(test_help);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", tmpdir);
  return TEST_RESULT();
}
