/* fuzz_http_path — what the HTTP server does with a request's (decoded)
 * path before any handler runs: the route table (src/http/router.c) and,
 * when no route matches, the static file lookup (src/http/static.c).
 *
 * The router holds the routes the server mounts today (the REST
 * connections API under two example prefixes, /connect, /join/:id and the
 * operational endpoints). The web root is a small temporary tree with an
 * index.html, a sub-directory, a dotfile and symlinks pointing outside it.
 * Input: byte 0 picks the method, the rest is the path (lws hands the
 * server a NUL-terminated decoded path; relpath also gets the length, so
 * embedded NULs are seen there).
 *
 * Properties checked besides the sanitizers:
 *   - FOUND: the route's method fits and its pattern matches the path; every
 *     captured value is non-empty and holds no '/';
 *   - NOT_FOUND: no pattern matches the path with any method;
 *     METHOD_NOT_ALLOWED: some pattern does, and Allow is non-empty;
 *   - relpath never yields an absolute path, a "." / ".." / dotfile segment,
 *     a backslash or an empty segment;
 *   - static_open only ever opens a regular file inside the web root (the
 *     descriptor is checked through /proc/self/fd), never a dotfile.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "http/router.h"
#include "http/static.h"

static struct tern_router router;
static char root[PATH_MAX], root_real[PATH_MAX];
static int dummy;

static const char *const methods[] = {"GET", "POST", "DELETE", "HEAD", "PUT", "OPTIONS"};

static void add(const char *method, const char *pattern) {
  FUZZ_ASSERT(tern_router_add(&router, method, pattern, &dummy, NULL) == 0, "route %s %s",
              method, pattern);
}

static void put_file(const char *rel, const char *text) {
  char p[PATH_MAX + 64];
  snprintf(p, sizeof p, "%s/%s", root, rel);
  FILE *f = fopen(p, "w");
  FUZZ_ASSERT(f, "create %s", p);
  fputs(text, f);
  fclose(f);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(p);
}

static void cleanup(void) { nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static void setup(void) {
  static const char *const prefixes[] = {"/ping-pong", "/datachannel-buffer-limits"};
  char p[PATH_MAX + 64];

  tern_router_init(&router);
  for (size_t i = 0; i < 2; i++) {
    char pat[128];
#define R(m, s) (snprintf(pat, sizeof pat, "%s%s", prefixes[i], s), add(m, pat))
    R("POST", "/connections");
    R("GET", "/connections");
    R("GET", "/connections/:id");
    R("DELETE", "/connections/:id");
    R("GET", "/connections/:id/local-description");
    R("GET", "/connections/:id/remote-description");
    R("POST", "/connections/:id/remote-description");
#undef R
  }
  add("GET", "/connect");
  add("POST", "/join/:conversationid");
  add("GET", "/metrics");
  add("GET", "/health");

  snprintf(root, sizeof root, "/tmp/tern-fuzz-web-XXXXXX");
  FUZZ_ASSERT(mkdtemp(root), "mkdtemp");
  atexit(cleanup);
  snprintf(p, sizeof p, "%s/a", root);
  FUZZ_ASSERT(mkdir(p, 0700) == 0, "mkdir");
  put_file("index.html", "<p>root</p>");
  put_file("a/index.html", "<p>a</p>");
  put_file("a/app.js", "1");
  put_file(".env", "SECRET=x");
  snprintf(p, sizeof p, "%s/out", root);
  FUZZ_ASSERT(symlink("/etc", p) == 0, "symlink");
  snprintf(p, sizeof p, "%s/a/up", root);
  FUZZ_ASSERT(symlink("../..", p) == 0, "symlink");
  snprintf(p, sizeof p, "%s/passwd", root);
  FUZZ_ASSERT(symlink("/etc/passwd", p) == 0, "symlink");
  FUZZ_ASSERT(realpath(root, root_real), "realpath");
}

static void check_relpath(const char *rel) {
  FUZZ_ASSERT(rel[0] && rel[0] != '/', "relpath '%s' empty or absolute", rel);
  FUZZ_ASSERT(!strchr(rel, '\\'), "backslash in '%s'", rel);
  for (const char *s = rel; s; s = strchr(s, '/') ? strchr(s, '/') + 1 : NULL) {
    FUZZ_ASSERT(s[0] != '/' && s[0] != '\0', "empty segment in '%s'", rel);
    FUZZ_ASSERT(s[0] != '.', "dot segment in '%s'", rel);
  }
}

static void check_open(const char *rel) {
  int fd = -1;
  size_t size = 0;
  const char *ctype = NULL;
  int rc = tern_static_open(root_real, rel, &fd, &size, &ctype);
  FUZZ_ASSERT(rc == 0 || rc == -ENOENT || rc == -EISDIR, "static_open %d", rc);
  if (rc < 0)
    return;
  char link[64], target[PATH_MAX + 1];
  struct stat st;
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  FUZZ_ASSERT(n > 0, "readlink");
  target[n] = '\0';
  size_t rl = strlen(root_real);
  FUZZ_ASSERT(strncmp(target, root_real, rl) == 0 && target[rl] == '/',
              "'%s' opened %s, outside the web root", rel, target);
  FUZZ_ASSERT(!strstr(target + rl, "/."), "'%s' opened the dotfile %s", rel, target);
  FUZZ_ASSERT(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == size,
              "not a regular file or wrong size");
  FUZZ_ASSERT(ctype && ctype[0], "no content type");
  close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static struct tern_route_match m, m2;
  char allow[128], rel[PATH_MAX];

  if (!router.n)
    setup();
  if (size < 1 || size > 3 * TERN_ROUTE_PATH_MAX)
    return 0;
  const char *method = methods[data[0] % (sizeof methods / sizeof methods[0])];
  size_t len = size - 1;
  char *path = malloc(len + 1);
  memcpy(path, data + 1, len);
  path[len] = '\0';

  if (path[0] == '/') { /* lws only hands over paths starting with '/' */
    const struct tern_route *rt = NULL;
    enum tern_route_result res =
        tern_router_find(&router, method, path, &rt, &m, allow, sizeof allow);
    bool any = false;
    for (unsigned i = 0; i < router.n; i++)
      any = any || tern_route_match(router.routes[i].pattern, path, NULL);
    switch (res) {
    case TERN_ROUTE_FOUND:
      FUZZ_ASSERT(rt && tern_route_match(rt->pattern, path, &m2), "found but no match");
      FUZZ_ASSERT(strcmp(rt->method, method) == 0 ||
                      (strcmp(method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0),
                  "method %s routed to %s", method, rt->method);
      FUZZ_ASSERT(m.n <= TERN_ROUTE_MAX_PARAMS, "params");
      for (unsigned i = 0; i < m.n; i++)
        FUZZ_ASSERT(m.values[i][0] && !strchr(m.values[i], '/'), "param '%s'", m.values[i]);
      break;
    case TERN_ROUTE_METHOD_NOT_ALLOWED:
      FUZZ_ASSERT(any && allow[0], "405 without a matching pattern or Allow");
      break;
    case TERN_ROUTE_NOT_FOUND:
      FUZZ_ASSERT(!any, "404 although a pattern matches");
      break;
    default:
      FUZZ_ASSERT(0, "result %d", res);
    }
  }

  /* The static fallback, with the true length (embedded NULs included). */
  int rc = tern_static_relpath((const char *)data + 1, len, rel, sizeof rel);
  FUZZ_ASSERT(rc == 0 || rc == -ENOENT || rc == -ENAMETOOLONG, "relpath %d", rc);
  if (rc == 0) {
    FUZZ_ASSERT(memchr(rel, '\0', sizeof rel), "relpath not terminated");
    check_relpath(rel);
    check_open(rel);
  }
  free(path);
  return 0;
}
