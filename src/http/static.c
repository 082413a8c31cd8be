#include "http/static.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

int tern_static_relpath(const char *path, size_t len, char *out, size_t cap) {
  if (len == 0 || path[0] != '/' || memchr(path, '\0', len) ||
      memchr(path, '\\', len))
    return -ENOENT;
  /* Check each segment: no ".", "..", dotfiles; empty ones (from "//")
   * are skipped rather than trusted. */
  size_t o = 0;
  const char *p = path + 1, *end = path + len;
  while (p < end) {
    const char *slash = memchr(p, '/', (size_t)(end - p));
    size_t sl = slash ? (size_t)(slash - p) : (size_t)(end - p);
    if (sl > 0) {
      if (p[0] == '.')
        return -ENOENT;
      if (o + sl + 2 > cap)
        return -ENAMETOOLONG;
      if (o)
        out[o++] = '/';
      memcpy(out + o, p, sl);
      o += sl;
    }
    p += sl + 1;
  }
  /* "/" and "/dir/" name a directory: serve its index.html. */
  if (path[len - 1] == '/') {
    static const char idx[] = "index.html";
    if (o + sizeof idx + 1 > cap)
      return -ENAMETOOLONG;
    if (o)
      out[o++] = '/';
    memcpy(out + o, idx, sizeof idx - 1);
    o += sizeof idx - 1;
  }
  if (o == 0)
    return -ENOENT;
  out[o] = '\0';
  return 0;
}

bool tern_static_within(const char *root_real, const char *resolved) {
  size_t rl = strlen(root_real);
  if (rl == 1 && root_real[0] == '/') /* web root "/" (odd but valid) */
    return resolved[0] == '/';
  return strncmp(resolved, root_real, rl) == 0 &&
         (resolved[rl] == '\0' || resolved[rl] == '/');
}

const char *tern_static_content_type(const char *name) {
  static const struct {
    const char *ext, *type;
  } types[] = {
      {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"json", "application/json"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"ico", "image/x-icon"},
      {"wav", "audio/wav"},
      {"webm", "video/webm"},
      {"txt", "text/plain; charset=utf-8"},
      {"map", "application/json"},
  };
  const char *slash = strrchr(name, '/');
  const char *dot = strrchr(slash ? slash : name, '.');
  if (dot)
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
      if (strcasecmp(dot + 1, types[i].ext) == 0)
        return types[i].type;
  return "application/octet-stream";
}

/* Resolves root/rel and opens it if it is a regular file inside root. */
static int open_inside(const char *root_real, const char *joined, int *fd,
                       struct stat *st) {
  char resolved[PATH_MAX];
  if (!realpath(joined, resolved) || !tern_static_within(root_real, resolved))
    return -ENOENT;
  /* The realpath has no symlinks left; O_NOFOLLOW guards the last component
   * against a swap between the check and the open. */
  int f = open(resolved, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (f < 0)
    return -ENOENT;
  if (fstat(f, st) < 0) {
    close(f);
    return -ENOENT;
  }
  *fd = f;
  return 0;
}

int tern_static_open(const char *root_real, const char *rel, int *fd,
                     size_t *size, const char **ctype) {
  char joined[PATH_MAX];
  struct stat st;
  int f;
  if (snprintf(joined, sizeof joined, "%s/%s", root_real, rel) >=
      (int)sizeof joined)
    return -ENOENT;
  if (open_inside(root_real, joined, &f, &st) < 0)
    return -ENOENT;
  if (S_ISDIR(st.st_mode)) {
    /* Without a trailing slash the page's relative links would resolve
     * against the parent: the caller redirects to "<path>/" instead. */
    close(f);
    return -EISDIR;
  }
  if (!S_ISREG(st.st_mode)) {
    close(f);
    return -ENOENT;
  }
  *fd = f;
  *size = (size_t)st.st_size;
  *ctype = tern_static_content_type(rel);
  return 0;
}
