/* static — serving files from the web root, safely.
 *
 * A request path (already percent-decoded once by lws; never decoded twice,
 * or "%252e%252e" would become "..") is turned into a path relative to the
 * web root by tern_static_relpath, which refuses NUL bytes, backslashes,
 * "." and ".." segments and any segment starting with '.' (no dotfiles such
 * as .env or .git are ever served). The opened file must then resolve, with
 * every symlink followed (realpath), to a regular file inside the web root's
 * own realpath. Every refusal looks like a missing file (404, never 403), so
 * probing reveals nothing. "/dir/" is served as dir/index.html; "/dir"
 * is redirected to "/dir/" so relative links in the page work.
 *
 * The web root is resolved once when the server starts; files are opened
 * per request (files are small pages and scripts; reading them happens in
 * chunks on the loop thread as the socket drains).
 */
#ifndef TERN_HTTP_STATIC_H
#define TERN_HTTP_STATIC_H

#include <stdbool.h>
#include <stddef.h>

/* path/len: the decoded request path (len lets embedded NULs be seen).
 * Writes the relative path ("index.html" for "/", "a/index.html" for "/a/")
 * into out. 0, or -ENOENT for anything refused, -ENAMETOOLONG. */
int tern_static_relpath(const char *path, size_t len, char *out, size_t cap);

/* True if resolved (an absolute, symlink-free path) is root_real itself or
 * inside it. Both must come from realpath(). */
bool tern_static_within(const char *root_real, const char *resolved);

/* Content-Type for a file name by extension; "application/octet-stream"
 * for unknown ones. */
const char *tern_static_content_type(const char *name);

/* Opens rel under root_real (a realpath). On success *fd is an O_RDONLY
 * descriptor the caller closes, *size its length and *ctype its content
 * type. -EISDIR when rel is a directory (the request lacked the trailing
 * '/': redirect to it), -ENOENT for anything else not servable. */
int tern_static_open(const char *root_real, const char *rel, int *fd,
                     size_t *size, const char **ctype);

#endif
