/* fuzz_config — the .env reader and setting parsers (src/core/config.c).
 *
 * The .env file is outside input of a milder kind (whoever deploys writes
 * it, sometimes shared with other services), but a bad one must fail with
 * one clear line, never crash. The input becomes the file's bytes: it is
 * written to a memfd and read through /proc/self/fd/N, so config.c runs
 * unchanged, file reading included. The environment lookup returns nothing,
 * so only the file counts.
 *
 * Properties checked besides the sanitizers:
 *   - the result is 0, -EINVAL or -EBADMSG (never -EIO on a readable file);
 *   - an error comes with a non-empty message of one line (config.h: "one
 *     line in err"), a success with none;
 *   - on success the strings are NUL-terminated and the ports valid, and
 *     LISTEN / MEDIA_LISTEN survive hostport_str -> parse_hostport;
 *   - tern_config_parse_hostport on the input's first line: same round trip.
 */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/config.h"
#include "fuzz.h"

static int memfd = -1;
static char path[64];

static const char *no_env(const char *name, void *user) {
  (void)name;
  (void)user;
  return NULL;
}

static void hostport_round_trip(const struct tern_hostport *hp) {
  char buf[128];
  struct tern_hostport back;
  FUZZ_ASSERT(memchr(hp->host, '\0', sizeof hp->host), "host not terminated");
  FUZZ_ASSERT(hp->port >= 1 && hp->port <= 65535, "port %d", hp->port);
  const char *s = tern_config_hostport_str(hp, buf, sizeof buf);
  FUZZ_ASSERT(s && tern_config_parse_hostport(s, &back) == 0, "'%s' does not parse back",
              s ? s : "(null)");
  FUZZ_ASSERT(strcmp(back.host, hp->host) == 0 && back.port == hp->port,
              "'%s' parses to %s:%d", s, back.host, back.port);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct tern_config c;
  char err[2048];

  if (memfd < 0) {
    memfd = memfd_create("fuzz_env", MFD_CLOEXEC);
    FUZZ_ASSERT(memfd >= 0, "memfd_create: %s", strerror(errno));
    snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
  }
  FUZZ_ASSERT(ftruncate(memfd, 0) == 0 && pwrite(memfd, data, size, 0) == (ssize_t)size,
              "memfd write");

  int rc = tern_config_load_from(&c, path, no_env, NULL, err, sizeof err);
  FUZZ_ASSERT(rc == 0 || rc == -EINVAL || rc == -EBADMSG, "rc %d (%s)", rc, err);
  FUZZ_ASSERT(memchr(err, '\0', sizeof err), "err not terminated");
  if (rc < 0) {
    FUZZ_ASSERT(err[0], "error %d without a message", rc);
    /* One line, always (tests/fuzz/crashes/config/ once broke it). */
    FUZZ_ASSERT(!strchr(err, '\n'), "error message spans lines: %s", err);
  } else {
    FUZZ_ASSERT(!err[0], "success with a message: %s", err);
    hostport_round_trip(&c.listen);
    hostport_round_trip(&c.media_listen);
    FUZZ_ASSERT(memchr(c.announced_ip, '\0', sizeof c.announced_ip) &&
                    memchr(c.secret, '\0', sizeof c.secret) &&
                    memchr(c.recordings_dir, '\0', sizeof c.recordings_dir) &&
                    memchr(c.web_root, '\0', sizeof c.web_root) &&
                    memchr(c.permissions_host, '\0', sizeof c.permissions_host) &&
                    memchr(c.nats, '\0', sizeof c.nats),
                "string not terminated");
    FUZZ_ASSERT(c.auth != TERN_AUTH_JWT || c.secret[0], "jwt without secret");
  }

  /* The first line alone as a host:port, as LISTEN=... would give it. */
  char line[256];
  size_t n = 0;
  while (n < size && n < sizeof line - 1 && data[n] != '\n' && data[n] != '\0') {
    line[n] = (char)data[n];
    n++;
  }
  line[n] = '\0';
  struct tern_hostport hp;
  if (tern_config_parse_hostport(line, &hp) == 0)
    hostport_round_trip(&hp);
  return 0;
}
