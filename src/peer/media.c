#include "peer/media.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "core/log.h"
#include "dtls/cert.h"
#include "dtls/dtls.h"
#include "sctp/sctp.h"
#include "srtp/srtp.h"

int tern_media_init(struct tern_media *m, uv_loop_t *loop, const struct tern_media_config *cfg,
                    char *err, size_t errcap) {
  char a[64];
  int rc;
  memset(m, 0, sizeof *m);
  rc = tern_transport_init(&m->transport, loop, cfg->host[0] ? cfg->host : "0.0.0.0", cfg->port);
  if (rc < 0) {
    snprintf(err, errcap, "MEDIA_LISTEN: cannot bind UDP %s:%d: %s", cfg->host, cfg->port,
             uv_strerror(rc));
    return rc;
  }
  m->transport_ready = true;
  if (tern_iplimit_init(&m->per_ip, cfg->max_peers_per_ip) < 0) {
    snprintf(err, errcap, "out of memory");
    rc = -ENOMEM;
    goto fail;
  }
  m->env.per_ip = &m->per_ip;
  if (!(m->cert = tern_cert_generate()) || !(m->dtls = tern_dtls_ctx_create(m->cert))) {
    snprintf(err, errcap, "cannot create the DTLS certificate/context (OpenSSL)");
    rc = -EIO;
    goto fail;
  }
  /* libsrtp's start-up (~46 ms of self-tests) is paid once, not by the
   * first peer after every idle period. */
  if (tern_srtp_library_ref() < 0) {
    snprintf(err, errcap, "cannot initialise libsrtp");
    rc = -EIO;
    goto fail;
  }
  m->srtp_ref = true;
  if (!(m->sctp = tern_sctp_stack_create(loop))) {
    snprintf(err, errcap, "cannot start the SCTP stack (usrsctp)");
    rc = -EIO;
    goto fail;
  }
  m->env.loop = loop;
  m->env.transport = &m->transport;
  m->env.dtls = m->dtls;
  m->env.fingerprint = tern_cert_fingerprint(m->cert);
  m->env.sctp = m->sctp;
  m->env.consent_timeout_ms = cfg->consent_timeout_ms ? cfg->consent_timeout_ms : 10000;
  m->env.handshake_timeout_ms = cfg->handshake_timeout_ms ? cfg->handshake_timeout_ms : 10000;
  m->env.n_candidates = tern_transport_host_addresses(&m->transport, cfg->announced_ip,
                                                      m->env.candidates, TERN_PEER_MAX_CANDIDATES);
  if (m->env.n_candidates == 0) {
    snprintf(err, errcap, "%s: no address to announce in candidates",
             cfg->announced_ip && cfg->announced_ip[0] ? "ANNOUNCED_IP" : "MEDIA_LISTEN");
    rc = -EADDRNOTAVAIL;
    goto fail;
  }
  for (int i = 0; i < m->env.n_candidates; i++) {
    /* Candidates carry the socket's port, set when an SDP is written. */
    struct sockaddr_storage c = m->env.candidates[i];
    ((struct sockaddr_in *)&c)->sin_port = ((struct sockaddr_in *)&m->transport.local)->sin_port;
    tern_log_info(NULL, "media: host candidate %s", tern_addr_str((struct sockaddr *)&c, a, sizeof a));
  }
  return 0;

fail:
  tern_media_close(m);
  return rc;
}

static void release(struct tern_media *m) {
  if (m->env.per_ip)
    tern_iplimit_free(&m->per_ip);
  m->env.per_ip = NULL;
  if (m->srtp_ref)
    tern_srtp_library_unref();
  m->srtp_ref = false;
  if (m->sctp)
    tern_sctp_stack_destroy(m->sctp);
  m->sctp = NULL;
  if (m->dtls)
    tern_dtls_ctx_destroy(m->dtls);
  m->dtls = NULL;
  if (m->cert)
    tern_cert_free(m->cert);
  m->cert = NULL;
  if (m->transport_ready)
    tern_transport_close(&m->transport);
  m->transport_ready = false;
}

static void on_drain_closed(uv_handle_t *h) { release(h->data); }

static void on_drain(uv_check_t *c) {
  struct tern_media *m = c->data;
  if (m->env.peers_allocated == 0) {
    uv_check_stop(c);
    uv_close((uv_handle_t *)c, on_drain_closed);
  }
}

void tern_media_close(struct tern_media *m) {
  if (m->env.peers_allocated == 0 || !m->env.loop) {
    release(m);
    return;
  }
  tern_log_info(NULL, "media: waiting for %llu peer(s) to finish closing",
                (unsigned long long)m->env.peers_allocated);
  uv_check_init(m->env.loop, &m->drain);
  m->drain.data = m;
  uv_check_start(&m->drain, on_drain);
}
