/* cert — the server's DTLS identity and certificate fingerprints.
 *
 * WebRTC authenticates DTLS with self-signed certificates whose digest is
 * exchanged in SDP (`a=fingerprint:sha-256 AB:CD:…`, RFC 8122, RFC 8827 §6.5).
 * A tern_cert is an ECDSA P-256 key plus a self-signed X.509 v3 certificate
 * (random 63-bit serial, CN "tern", valid from one day ago to 30 days ahead:
 * the back-dating tolerates peers with slow clocks). Both browsers accept
 * ECDSA P-256 and it is the cheapest key for the handshake.
 *
 * Making one costs about a millisecond, so a server makes one at start and
 * shares it (read-only) between every connection; a DTLS context takes its
 * own references (see dtls.h), so the cert may be freed after that.
 *
 * Fingerprints are written as RFC 8122 wants: uppercase hex byte pairs joined
 * by ':'. Supported hash names (case-insensitive): sha-1, sha-224, sha-256,
 * sha-384, sha-512. sha-256 is what both browsers use.
 */
#ifndef TERN_DTLS_CERT_H
#define TERN_DTLS_CERT_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

struct tern_cert;

/* Longest fingerprint text (sha-512: 64 pairs), with the terminating NUL. */
#define TERN_CERT_FP_MAX (64 * 3)

/* Returns NULL if OpenSSL fails (out of memory, no entropy). */
struct tern_cert *tern_cert_generate(void);
void tern_cert_free(struct tern_cert *c);

/* The sha-256 fingerprint, computed once: 95 characters. Lives as long as c. */
const char *tern_cert_fingerprint(const struct tern_cert *c);

/* Borrowed pointers, valid as long as c. */
X509 *tern_cert_x509(const struct tern_cert *c);
EVP_PKEY *tern_cert_pkey(const struct tern_cert *c);

/* Writes the fingerprint of x under hash alg ("sha-256", …) into out.
 * Returns the text length, -EINVAL for an unknown alg or NULL x, -ENOSPC if
 * cap is too small (TERN_CERT_FP_MAX always fits), -EIO if OpenSSL fails. */
int tern_cert_fingerprint_x509(X509 *x, const char *alg, char *out, size_t cap);

/* The digest behind an RFC 8122 hash name, or NULL if not supported. */
const EVP_MD *tern_cert_fp_md(const char *alg);

#endif
