#include "dtls/cert.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/ec.h>

struct tern_cert {
  EVP_PKEY *pkey;
  X509 *x509;
  char fp_sha256[TERN_CERT_FP_MAX];
};

const EVP_MD *tern_cert_fp_md(const char *alg) {
  if (!alg)
    return NULL;
  /* RFC 8122 §5 names; browsers only ever send sha-256, but an offer from
   * another stack may carry any of these. md5/md2 are deliberately absent. */
  if (strcasecmp(alg, "sha-256") == 0)
    return EVP_sha256();
  if (strcasecmp(alg, "sha-1") == 0)
    return EVP_sha1();
  if (strcasecmp(alg, "sha-384") == 0)
    return EVP_sha384();
  if (strcasecmp(alg, "sha-512") == 0)
    return EVP_sha512();
  if (strcasecmp(alg, "sha-224") == 0)
    return EVP_sha224();
  return NULL;
}

int tern_cert_fingerprint_x509(X509 *x, const char *alg, char *out, size_t cap) {
  static const char hex[] = "0123456789ABCDEF";
  const EVP_MD *md = tern_cert_fp_md(alg);
  unsigned char dig[EVP_MAX_MD_SIZE];
  unsigned int n = 0;

  if (!x || !md || !out)
    return -EINVAL;
  if (X509_digest(x, md, dig, &n) != 1 || n == 0)
    return -EIO;
  if (cap < (size_t)n * 3)
    return -ENOSPC;
  for (unsigned int i = 0; i < n; i++) {
    out[i * 3] = hex[dig[i] >> 4];
    out[i * 3 + 1] = hex[dig[i] & 15];
    out[i * 3 + 2] = i + 1 < n ? ':' : '\0';
  }
  return (int)n * 3 - 1;
}

/* A positive random serial: RFC 5280 wants it unique per issuer, and since
 * every cert is its own issuer, 63 random bits are plenty. */
static int set_random_serial(X509 *x) {
  BIGNUM *bn = BN_new();
  int ok = 0;

  if (!bn)
    return 0;
  if (BN_rand(bn, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
      BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL)
    ok = 1;
  BN_free(bn);
  return ok;
}

static int fill_cert(X509 *x, EVP_PKEY *pkey) {
  X509_NAME *name = X509_get_subject_name(x);

  if (X509_set_version(x, 2) != 1 || !set_random_serial(x))
    return 0;
  if (!X509_gmtime_adj(X509_getm_notBefore(x), -24L * 3600) ||
      !X509_gmtime_adj(X509_getm_notAfter(x), 30L * 24 * 3600))
    return 0;
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 (const unsigned char *)"tern", -1, -1, 0) != 1)
    return 0;
  if (X509_set_issuer_name(x, name) != 1 || X509_set_pubkey(x, pkey) != 1)
    return 0;
  return X509_sign(x, pkey, EVP_sha256()) > 0;
}

struct tern_cert *tern_cert_generate(void) {
  struct tern_cert *c = calloc(1, sizeof(*c));

  if (!c)
    return NULL;
  /* OpenSSL 3 encodes the curve as a named curve by default, which is what
   * browsers require (they reject explicit curve parameters). */
  c->pkey = EVP_EC_gen("P-256");
  if (!c->pkey)
    goto free_cert;
  c->x509 = X509_new();
  if (!c->x509 || !fill_cert(c->x509, c->pkey))
    goto free_cert;
  if (tern_cert_fingerprint_x509(c->x509, "sha-256", c->fp_sha256,
                                 sizeof(c->fp_sha256)) != 95)
    goto free_cert;
  return c;

free_cert:
  tern_cert_free(c);
  return NULL;
}

void tern_cert_free(struct tern_cert *c) {
  if (!c)
    return;
  X509_free(c->x509);
  EVP_PKEY_free(c->pkey);
  free(c);
}

const char *tern_cert_fingerprint(const struct tern_cert *c) {
  return c->fp_sha256;
}

X509 *tern_cert_x509(const struct tern_cert *c) { return c->x509; }

EVP_PKEY *tern_cert_pkey(const struct tern_cert *c) { return c->pkey; }
