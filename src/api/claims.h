/* claims — who is calling the Beep API (SPEC §2): the X-User-Claim header
 * set by Beep's auth proxy, an HS256 JSON Web Token verified here, the
 * "Authorization: Bearer" header, and conversation ids.
 *
 * Pure functions: no I/O, no globals, no logging; they only read their
 * arguments (which need not be NUL-terminated where a length is passed) and
 * write *out and reason. On failure *out is all empty strings and reason
 * holds a short, printable-ASCII sentence meant for the 400/401 body (it
 * never echoes the caller's input, so it is safe to log and to send).
 *
 * Identity rules, the same for the header and for a token's payload:
 * a JSON object (RFC 8259) with string members "userid" and "clientid",
 * each 1..TERN_CLAIM_MAX_FIELD Unicode code points (counted as characters,
 * not bytes; stored as UTF-8 so a field is at most 4 bytes per character),
 * no control characters (U+0000-U+001F, U+007F-U+009F), no duplicate keys
 * anywhere; other members are ignored.
 *
 * JWT (RFC 7519, JWS compact serialisation RFC 7515 §7.1): exactly three
 * base64url segments without padding (RFC 7515 §2, strict: no '=', no
 * whitespace, unused bits zero); the header's "alg" must be "HS256"
 * (RFC 7518 §3.2) and "typ", if present, "JWT"; "crit" is refused since
 * we implement no extensions (RFC 7515 §4.1.11). The HMAC-SHA256 is checked
 * in constant time before the payload is parsed. "exp" and "nbf"
 * (NumericDate, RFC 7519 §4.1.4/§4.1.5) are honoured when present with
 * TERN_JWT_LEEWAY_S of clock skew; a token without "exp" does not expire
 * (Beep's backend-login issues such tokens). "iss", "aud", "iat" and other
 * claims are ignored.
 */
#ifndef TERN_API_CLAIMS_H
#define TERN_API_CLAIMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TERN_CLAIM_MAX_HEADER 1024 /* X-User-Claim, bytes */
#define TERN_CLAIM_MAX_FIELD 256   /* userid / clientid, Unicode characters */
#define TERN_CLAIM_FIELD_BYTES (TERN_CLAIM_MAX_FIELD * 4 + 1)
#define TERN_JWT_MAX 4096          /* whole token, bytes */
#define TERN_JWT_LEEWAY_S 30       /* allowed clock skew for exp and nbf */
#define TERN_CONVERSATION_ID_MAX 128

struct tern_claims {
  char userid[TERN_CLAIM_FIELD_BYTES];   /* UTF-8, NUL-terminated */
  char clientid[TERN_CLAIM_FIELD_BYTES]; /* UTF-8, NUL-terminated */
};

/* X-User-Claim: {"userid":"…","clientid":"…"}. header may be NULL (the
 * header is absent). Returns 0, or -EINVAL with a reason such as "missing
 * X-User-Claim header" or "userid must be a non-empty string". reason may
 * be NULL or cap 0; it is always NUL-terminated otherwise. */
int tern_claims_from_header(const char *header, size_t len, struct tern_claims *out,
                            char *reason, size_t cap);

/* Verifies an HS256 JWT with secret (must not be empty) at time now_s (Unix
 * seconds) and reads its userid/clientid claims. Returns 0, or -EACCES with
 * a reason such as "malformed token", "bad signature", "token expired",
 * "alg none is not accepted". */
int tern_claims_from_jwt(const char *token, size_t len, const uint8_t *secret, size_t secret_len,
                         int64_t now_s, struct tern_claims *out, char *reason, size_t cap);

/* The token of an Authorization header value "Bearer <token>" (RFC 6750
 * §2.1: scheme case-insensitive, surrounding spaces/tabs allowed, token of
 * b64token characters). *token points into authorization. Returns 0;
 * -ENOENT if authorization is NULL or another scheme (the caller may look
 * elsewhere, e.g. ?token=); -EINVAL if it is Bearer with no or a bad token. */
int tern_claims_bearer(const char *authorization, const char **token, size_t *len);

/* 1..TERN_CONVERSATION_ID_MAX characters of [A-Za-z0-9._-], and not "." or
 * ".." (an id ends up in the PERMISSIONS_HOST URL path, where dot segments
 * would be resolved away). NULL is invalid. */
bool tern_conversation_id_valid(const char *id);

#endif
