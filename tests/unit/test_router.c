/* Tests for http/router (pattern matching, 405 logic) and http/static
 * (path checks, containment, content types, opening files): pure functions,
 * no sockets. */
#include "http/router.h"
#include "http/static.h"
#include "test.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_pattern_check(void) {
  CHECK_EQ_INT(tern_route_pattern_check("/"), 0);
  CHECK_EQ_INT(tern_route_pattern_check("/healthz"), 0);
  CHECK_EQ_INT(tern_route_pattern_check("/a/:id/b"), 0);
  CHECK_EQ_INT(tern_route_pattern_check("/join/:conversation_id"), 0);
  CHECK_EQ_INT(tern_route_pattern_check(""), -EINVAL);
  CHECK_EQ_INT(tern_route_pattern_check("healthz"), -EINVAL);
  CHECK_EQ_INT(tern_route_pattern_check("/a//b"), -EINVAL);
  CHECK_EQ_INT(tern_route_pattern_check("/a/"), -EINVAL);
  CHECK_EQ_INT(tern_route_pattern_check("/a/:"), -EINVAL);
  CHECK_EQ_INT(tern_route_pattern_check("/a/:x-y"), -EINVAL);
  CHECK_EQ_INT(tern_route_pattern_check("/:a/:b/:c/:d/:e/:f/:g/:h"), 0);
  CHECK_EQ_INT(tern_route_pattern_check("/:a/:b/:c/:d/:e/:f/:g/:h/:i"),
               -EINVAL);
}

static void test_match(void) {
  static const struct {
    const char *pattern, *path;
    bool ok;
    const char *param, *value;
  } cases[] = {
      {"/", "/", true, NULL, NULL},
      {"/", "/x", false, NULL, NULL},
      {"/healthz", "/healthz", true, NULL, NULL},
      {"/healthz", "/healthz/", true, NULL, NULL},
      {"/healthz", "/healthz//", false, NULL, NULL},
      {"/healthz", "/Healthz", false, NULL, NULL},
      {"/healthz", "/healthzz", false, NULL, NULL},
      {"/healthz", "/health", false, NULL, NULL},
      {"/healthz", "/healthz/x", false, NULL, NULL},
      {"/healthz", "healthz", false, NULL, NULL},
      {"/a/b", "/a", false, NULL, NULL},
      {"/a", "/a/b", false, NULL, NULL},
      {"/join/:cid", "/join/abc-1.2_3", true, "cid", "abc-1.2_3"},
      {"/join/:cid", "/join/", false, NULL, NULL},
      {"/join/:cid", "/join", false, NULL, NULL},
      {"/join/:cid", "/join//", false, NULL, NULL},
      {"/join/:cid", "/join/a/b", false, NULL, NULL},
      {"/join/:cid", "/join/a b", true, "cid", "a b"},
      {"/ping-pong/connections/:id/remote-description",
       "/ping-pong/connections/7f3a/remote-description", true, "id", "7f3a"},
      {"/ping-pong/connections/:id/remote-description",
       "/ping-pong/connections/7f3a/local-description", false, NULL, NULL},
      {"/ping-pong/connections/:id/remote-description",
       "/ping-pong/connections//remote-description", false, NULL, NULL},
      {"/ping-pong/connections/:id", "/ping-pong/connections/x/", true, "id",
       "x"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct tern_route_match m;
    bool ok = tern_route_match(cases[i].pattern, cases[i].path, &m);
    if (ok != cases[i].ok)
      fprintf(stderr, "case %zu: %s vs %s\n", i, cases[i].pattern,
              cases[i].path);
    CHECK(ok == cases[i].ok);
    CHECK(tern_route_match(cases[i].pattern, cases[i].path, NULL) ==
          cases[i].ok);
    if (ok && cases[i].param) {
      CHECK_EQ_INT(m.n, 1);
      CHECK_EQ_STR(tern_route_param(&m, cases[i].param), cases[i].value);
      CHECK(tern_route_param(&m, "nope") == NULL);
    }
  }
  /* Several captures. */
  struct tern_route_match m;
  REQUIRE(tern_route_match("/x/:a/y/:b", "/x/1/y/22", &m));
  CHECK_EQ_INT(m.n, 2);
  CHECK_EQ_STR(tern_route_param(&m, "a"), "1");
  CHECK_EQ_STR(tern_route_param(&m, "b"), "22");
  /* A path at the length limit never matches; one below does. */
  static char longpath[TERN_ROUTE_PATH_MAX + 2];
  longpath[0] = '/';
  memset(longpath + 1, 'a', TERN_ROUTE_PATH_MAX);
  longpath[TERN_ROUTE_PATH_MAX] = '\0';
  CHECK(!tern_route_match("/:x", longpath, &m));
  longpath[TERN_ROUTE_PATH_MAX - 1] = '\0';
  REQUIRE(tern_route_match("/:x", longpath, &m));
  CHECK_EQ_INT(strlen(tern_route_param(&m, "x")), TERN_ROUTE_PATH_MAX - 2);
}

static int h1, h2, h3;

/* ":name*" takes the rest of the path, so a decoded "%2F" inside an id
 * still reaches the handler (and its validator). */
static void test_rest_capture(void) {
  struct tern_route_match m;
  CHECK(tern_route_pattern_check("/join/:conversationid*") == 0);
  CHECK(tern_route_pattern_check("/join/:id*/more") < 0); /* only last */
  CHECK(tern_route_pattern_check("/join/:*") < 0);
  REQUIRE(tern_route_match("/join/:conversationid*", "/join/abc", &m));
  CHECK_EQ_STR(tern_route_param(&m, "conversationid"), "abc");
  REQUIRE(tern_route_match("/join/:conversationid*", "/join/bad/id", &m));
  CHECK_EQ_STR(tern_route_param(&m, "conversationid"), "bad/id");
  CHECK(!tern_route_match("/join/:conversationid*", "/join/", &m));
  CHECK(!tern_route_match("/join/:conversationid*", "/join", &m));
  CHECK(!tern_route_match("/join/:conversationid*", "/other/x", &m));
}

static void test_router(void) {
  struct tern_router r;
  tern_router_init(&r);
  CHECK_EQ_INT(tern_router_add(&r, "GET", "/c", &h1, NULL), 0);
  CHECK_EQ_INT(tern_router_add(&r, "POST", "/c", &h2, NULL), 0);
  CHECK_EQ_INT(tern_router_add(&r, "DELETE", "/c/:id", &h3, NULL), 0);
  CHECK_EQ_INT(tern_router_add(&r, "GET", "/c/:id", &h1, NULL), 0);
  CHECK_EQ_INT(tern_router_add(&r, "GET", "/c", &h1, NULL), -EEXIST);
  CHECK_EQ_INT(tern_router_add(&r, "get", "/x", &h1, NULL), -EINVAL);
  CHECK_EQ_INT(tern_router_add(&r, "GET", "x", &h1, NULL), -EINVAL);

  const struct tern_route *rt = NULL;
  struct tern_route_match m;
  char allow[64];
  CHECK_EQ_INT(tern_router_find(&r, "POST", "/c", &rt, &m, allow, sizeof allow),
               TERN_ROUTE_FOUND);
  CHECK(rt && rt->handler == &h2);
  CHECK_EQ_INT(tern_router_find(&r, "HEAD", "/c", &rt, &m, allow, sizeof allow),
               TERN_ROUTE_FOUND);
  CHECK(rt && rt->handler == &h1);
  CHECK_EQ_INT(
      tern_router_find(&r, "DELETE", "/c/9", &rt, &m, allow, sizeof allow),
      TERN_ROUTE_FOUND);
  CHECK(rt && rt->handler == &h3);
  CHECK_EQ_STR(tern_route_param(&m, "id"), "9");
  CHECK_EQ_INT(tern_router_find(&r, "PUT", "/c", &rt, &m, allow, sizeof allow),
               TERN_ROUTE_METHOD_NOT_ALLOWED);
  CHECK_EQ_STR(allow, "GET, HEAD, POST");
  CHECK_EQ_INT(tern_router_find(&r, "POST", "/c/1", &rt, &m, allow, sizeof allow),
               TERN_ROUTE_METHOD_NOT_ALLOWED);
  CHECK_EQ_STR(allow, "DELETE, GET, HEAD");
  CHECK_EQ_INT(tern_router_find(&r, "GET", "/d", &rt, &m, allow, sizeof allow),
               TERN_ROUTE_NOT_FOUND);
  CHECK_EQ_INT(
      tern_router_find(&r, "GET", "/c/1/2", &rt, &m, allow, sizeof allow),
      TERN_ROUTE_NOT_FOUND);
  tern_router_free(&r);
}

static void test_relpath(void) {
  static const struct {
    const char *path;
    int rc;
    const char *rel;
  } cases[] = {
      {"/", 0, "index.html"},
      {"/index.html", 0, "index.html"},
      {"/ping-pong/", 0, "ping-pong/index.html"},
      {"/ping-pong", 0, "ping-pong"},
      {"/ping-pong/index.js", 0, "ping-pong/index.js"},
      {"//a///b", 0, "a/b"},
      {"/a b.txt", 0, "a b.txt"},
      {"/%2e%2e/x", 0, "%2e%2e/x"}, /* decoded once already: a literal name */
      {"/..", -ENOENT, NULL},
      {"/../etc/passwd", -ENOENT, NULL},
      {"/a/../../etc/passwd", -ENOENT, NULL},
      {"/a/..", -ENOENT, NULL},
      {"/./a", -ENOENT, NULL},
      {"/.env", -ENOENT, NULL},
      {"/.git/config", -ENOENT, NULL},
      {"/a\\..\\b", -ENOENT, NULL},
      {"relative", -ENOENT, NULL},
      {"", -ENOENT, NULL},
      {"//", 0, "index.html"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char out[256];
    int rc = tern_static_relpath(cases[i].path, strlen(cases[i].path), out,
                                 sizeof out);
    if (rc != cases[i].rc)
      fprintf(stderr, "relpath case %zu: %s\n", i, cases[i].path);
    CHECK_EQ_INT(rc, cases[i].rc);
    if (rc == 0 && cases[i].rc == 0)
      CHECK_EQ_STR(out, cases[i].rel);
  }
  /* An embedded NUL is refused even though the prefix looks fine. */
  char out[64];
  CHECK_EQ_INT(tern_static_relpath("/a.html\0.png", 12, out, sizeof out),
               -ENOENT);
  CHECK_EQ_INT(tern_static_relpath("/abcdefghij", 11, out, 8), -ENAMETOOLONG);
}

static void test_within(void) {
  CHECK(tern_static_within("/srv/web", "/srv/web"));
  CHECK(tern_static_within("/srv/web", "/srv/web/a.html"));
  CHECK(!tern_static_within("/srv/web", "/srv/web2/a.html"));
  CHECK(!tern_static_within("/srv/web", "/srv/we"));
  CHECK(!tern_static_within("/srv/web", "/etc/passwd"));
  CHECK(tern_static_within("/", "/etc/passwd"));
}

static void test_content_types(void) {
  CHECK_EQ_STR(tern_static_content_type("a/index.html"),
               "text/html; charset=utf-8");
  CHECK_EQ_STR(tern_static_content_type("x.js"),
               "text/javascript; charset=utf-8");
  CHECK_EQ_STR(tern_static_content_type("x.mjs"),
               "text/javascript; charset=utf-8");
  CHECK_EQ_STR(tern_static_content_type("x.CSS"), "text/css; charset=utf-8");
  CHECK_EQ_STR(tern_static_content_type("x.json"), "application/json");
  CHECK_EQ_STR(tern_static_content_type("x.svg"), "image/svg+xml");
  CHECK_EQ_STR(tern_static_content_type("x.png"), "image/png");
  CHECK_EQ_STR(tern_static_content_type("favicon.ico"), "image/x-icon");
  CHECK_EQ_STR(tern_static_content_type("a.wav"), "audio/wav");
  CHECK_EQ_STR(tern_static_content_type("a.webm"), "video/webm");
  CHECK_EQ_STR(tern_static_content_type("a.txt"), "text/plain; charset=utf-8");
  CHECK_EQ_STR(tern_static_content_type("Makefile"), "application/octet-stream");
  CHECK_EQ_STR(tern_static_content_type("dir.js/file"),
               "application/octet-stream");
}

static void put(const char *path, const char *content) {
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(content, f);
    fclose(f);
  }
}

static void test_open(void) {
  char base[] = "/tmp/tern_test_static_XXXXXX";
  REQUIRE(mkdtemp(base));
  char root[PATH_MAX], p[PATH_MAX + 64], real[PATH_MAX];
  snprintf(root, sizeof root, "%s/web", base);
  REQUIRE(mkdir(root, 0755) == 0);
  snprintf(p, sizeof p, "%s/secret.txt", base);
  put(p, "secret");
  snprintf(p, sizeof p, "%s/index.html", root);
  put(p, "<p>hi</p>");
  snprintf(p, sizeof p, "%s/sub", root);
  REQUIRE(mkdir(p, 0755) == 0);
  snprintf(p, sizeof p, "%s/sub/index.html", root);
  put(p, "sub");
  snprintf(p, sizeof p, "%s/escape.txt", root);
  REQUIRE(symlink("../secret.txt", p) == 0);
  snprintf(p, sizeof p, "%s/inside.html", root);
  REQUIRE(symlink("index.html", p) == 0);
  REQUIRE(realpath(root, real));

  int fd = -1;
  size_t size = 0;
  const char *ctype = NULL;
  CHECK_EQ_INT(tern_static_open(real, "index.html", &fd, &size, &ctype), 0);
  CHECK_EQ_INT(size, 9);
  CHECK_EQ_STR(ctype, "text/html; charset=utf-8");
  if (fd >= 0)
    close(fd);
  fd = -1;
  CHECK_EQ_INT(tern_static_open(real, "inside.html", &fd, &size, &ctype), 0);
  if (fd >= 0)
    close(fd);
  CHECK_EQ_INT(tern_static_open(real, "sub/index.html", &fd, &size, &ctype),
               0);
  CHECK_EQ_INT(size, 3);
  if (fd >= 0)
    close(fd);
  CHECK_EQ_INT(tern_static_open(real, "sub", &fd, &size, &ctype), -EISDIR);
  CHECK_EQ_INT(tern_static_open(real, "escape.txt", &fd, &size, &ctype),
               -ENOENT);
  CHECK_EQ_INT(tern_static_open(real, "../secret.txt", &fd, &size, &ctype),
               -ENOENT);
  CHECK_EQ_INT(tern_static_open(real, "missing.html", &fd, &size, &ctype),
               -ENOENT);

  char cmd[PATH_MAX + 16];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
  CHECK_EQ_INT(system(cmd), 0);
}

int main(void) {
  RUN(test_pattern_check);
  RUN(test_match);
  RUN(test_rest_capture);
  RUN(test_router);
  RUN(test_relpath);
  RUN(test_within);
  RUN(test_content_types);
  RUN(test_open);
  return TEST_RESULT();
}
