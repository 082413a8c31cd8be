#include "peer/peer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/log.h"
#include "dtls/dtls.h"
#include "ice/stun.h"
#include "net/transport.h"
#include "sctp/datachannel.h"
#include "sdp/negotiate.h"
#include "peer/peer_int.h"

const char *tern_peer_state_name(enum tern_peer_state s) {
  static const char *n[] = {"new", "connecting", "connected", "disconnected", "failed", "closed"};
  return s <= TERN_PEER_CLOSED ? n[s] : "?";
}

const char *tern_signaling_state_name(enum tern_signaling_state s) {
  static const char *n[] = {"stable", "have-local-offer", "have-remote-offer", "closed"};
  return s <= TERN_SIGNALING_CLOSED ? n[s] : "?";
}

const char *tern_sdp_type_name(enum tern_sdp_type t) { return t == TERN_SDP_OFFER ? "offer" : "answer"; }

static uint64_t now_ms(const struct tern_peer *p) { return uv_now(p->env->loop); }

static void set_state(struct tern_peer *p, enum tern_peer_state s) {
  if (p->state == s || p->closed)
    return;
  tern_log_info(p->id, "connection %s -> %s", tern_peer_state_name(p->state),
                tern_peer_state_name(s));
  p->state = s;
  if (p->ops->state)
    p->ops->state(p, p->user, s);
}

/* One timer per peer, armed for the earliest deadline of any layer. */
static void on_timer(uv_timer_t *t);

static void arm(struct tern_peer *p) {
  if (p->closed)
    return;
  uint64_t due = UINT64_MAX;
  uint64_t d;
  if (p->ice && (d = tern_ice_agent_next_timeout(p->ice)) < due)
    due = d;
  if (p->dtls && (d = tern_dtls_next_timeout(p->dtls)) < due)
    due = d;
  if (p->dtls_deadline && p->dtls_deadline < due)
    due = p->dtls_deadline;
  if (due == UINT64_MAX) {
    uv_timer_stop(&p->timer);
    return;
  }
  uint64_t now = now_ms(p);
  uv_timer_start(&p->timer, on_timer, due > now ? due - now : 0, 0);
}

static void fail(struct tern_peer *p, const char *why) {
  if (p->closed || p->state == TERN_PEER_FAILED)
    return;
  tern_log_warn(p->id, "peer connection failed: %s", why);
  p->dtls_deadline = 0;
  set_state(p, TERN_PEER_FAILED);
}

static void on_timer(uv_timer_t *t) {
  struct tern_peer *p = t->data;
  uint64_t now = now_ms(p);
  if (p->closed)
    return;
  if (p->ice)
    tern_ice_agent_handle_timeout(p->ice, now);
  if (p->dtls && !p->closed)
    tern_dtls_handle_timeout(p->dtls, now);
  if (p->dtls_deadline && now >= p->dtls_deadline)
    fail(p, "DTLS handshake did not finish in time");
  arm(p);
}

/* ---- transport → layers ------------------------------------------------ */

static void bind_addr(struct tern_peer *p, const struct sockaddr *from) {
  for (int i = 0; i < p->n_bound; i++)
    if (tern_addr_equal((struct sockaddr *)&p->bound[i], from))
      return;
  if (p->n_bound == MAX_BOUND) {
    /* A client cycling source addresses cannot make us hold more routes. */
    tern_transport_unbind_addr(p->env->transport, (struct sockaddr *)&p->bound[0], &p->ep);
    memmove(&p->bound[0], &p->bound[1], sizeof p->bound[0] * (MAX_BOUND - 1));
    p->n_bound--;
  }
  memcpy(&p->bound[p->n_bound++], from, tern_addr_len(from));
  tern_transport_bind_addr(p->env->transport, from, &p->ep);
}

static void on_stun(void *user, const struct sockaddr *from, const uint8_t *buf, size_t len,
                    const struct tern_stun_msg *msg) {
  struct tern_peer *p = user;
  if (p->closed)
    return;
  uint64_t ok_before = tern_ice_agent_stats(p->ice)->requests_ok;
  tern_ice_agent_input(p->ice, from, buf, len, msg, now_ms(p));
  if (!p->closed && tern_ice_agent_stats(p->ice)->requests_ok != ok_before) {
    /* A verified check: this address may now carry DTLS and media. */
    bind_addr(p, from);
    if (!tern_ice_agent_selected(p->ice)) {
      memcpy(&p->remote_addr, from, tern_addr_len(from));
      p->have_remote_addr = true;
    }
  }
  arm(p);
}

static void on_dtls_packet(void *user, const struct sockaddr *from, const uint8_t *buf,
                           size_t len) {
  struct tern_peer *p = user;
  (void)from;
  if (p->closed)
    return;
  if (!p->dtls) {
    if (p->have_remote || len > TERN_PEER_EARLY_DTLS_MAX)
      return;
    if (!p->early && !(p->early = calloc(1, sizeof *p->early)))
      return;
    if (p->early->n == TERN_PEER_EARLY_DTLS)
      return;
    memcpy(p->early->buf[p->early->n], buf, len);
    p->early->len[p->early->n++] = (uint16_t)len;
    return;
  }
  tern_dtls_input(p->dtls, buf, len, now_ms(p));
  arm(p);
}

static void replay_early_dtls(struct tern_peer *p) {
  struct early_dtls *e = p->early;
  p->early = NULL;
  for (int i = 0; e && i < e->n && !p->closed; i++)
    tern_dtls_input(p->dtls, e->buf[i], e->len[i], now_ms(p));
  free(e);
}

static const struct tern_transport_handler transport_handler = {
    .stun = on_stun,
    .dtls = on_dtls_packet,
    .rtp = tern_peer_on_rtp,
};

uint64_t tern_peer_now_ms(const struct tern_peer *p) { return now_ms(p); }

void tern_peer_send_raw(struct tern_peer *p, const uint8_t *buf, size_t len) {
  if (!p->closed && p->have_remote_addr)
    tern_transport_send(p->env->transport, (struct sockaddr *)&p->remote_addr, buf, len);
}

/* ---- ICE ---------------------------------------------------------------- */

static void ice_send(void *user, const struct sockaddr *to, const uint8_t *buf, size_t len) {
  struct tern_peer *p = user;
  if (!p->closed)
    tern_transport_send(p->env->transport, to, buf, len);
}

/* ICE is up: the handshake gets handshake_timeout_ms from now, and a DTLS
 * client sends its ClientHello (a server has been listening already). */
static void start_dtls(struct tern_peer *p) {
  if (!p->dtls || tern_dtls_state(p->dtls) == TERN_DTLS_CONNECTED)
    return;
  if (!p->dtls_deadline)
    p->dtls_deadline = now_ms(p) + p->env->handshake_timeout_ms;
  if (!p->dtls_started) {
    p->dtls_started = true;
    tern_dtls_start(p->dtls, now_ms(p));
  }
}

static void ice_state_changed(void *user, enum tern_ice_state s) {
  struct tern_peer *p = user;
  if (p->closed)
    return;
  tern_log_info(p->id, "ICE %s -> %s", tern_ice_state_name(p->ice_state), tern_ice_state_name(s));
  p->ice_state = s;
  if (p->ops->ice_state)
    p->ops->ice_state(p, p->user, s);
  if (p->closed)
    return;
  switch (s) {
  case TERN_ICE_CHECKING:
    set_state(p, TERN_PEER_CONNECTING);
    break;
  case TERN_ICE_CONNECTED:
    if (p->dtls && tern_dtls_state(p->dtls) == TERN_DTLS_CONNECTED)
      set_state(p, TERN_PEER_CONNECTED);
    else
      set_state(p, TERN_PEER_CONNECTING);
    start_dtls(p);
    break;
  case TERN_ICE_DISCONNECTED:
    set_state(p, TERN_PEER_DISCONNECTED);
    break;
  case TERN_ICE_FAILED:
    fail(p, "ICE failed");
    break;
  default:
    break;
  }
}

static void ice_selected(void *user, const struct sockaddr *remote) {
  struct tern_peer *p = user;
  char a[64];
  if (p->closed)
    return;
  memcpy(&p->remote_addr, remote, tern_addr_len(remote));
  p->have_remote_addr = true;
  bind_addr(p, remote);
  tern_log_info(p->id, "ICE selected %s", tern_addr_str(remote, a, sizeof a));
}

static const struct tern_ice_ops ice_ops = {
    .send = ice_send,
    .state_changed = ice_state_changed,
    .selected = ice_selected,
};

/* ---- DTLS ---------------------------------------------------------------- */

static void dtls_send(void *user, const uint8_t *buf, size_t len) {
  tern_peer_send_raw(user, buf, len);
}

static void dtls_connected(void *user) {
  struct tern_peer *p = user;
  if (p->closed)
    return;
  p->dtls_deadline = 0;
  tern_log_info(p->id, "DTLS connected as %s",
                p->dtls_role == TERN_DTLS_ROLE_CLIENT ? "client" : "server");
  int rc = tern_peer_media_start(p);
  if (rc < 0) {
    char why[80];
    snprintf(why, sizeof why, "SRTP keys could not be set up (%d)", rc);
    fail(p, why);
    return;
  }
  if (p->dcs && p->remote.datachannel)
    tern_dc_set_start(p->dcs, p->remote.sctp_port, p->remote.max_message_size);
  set_state(p, TERN_PEER_CONNECTED);
}

static void dtls_failed(void *user, const char *reason) {
  struct tern_peer *p = user;
  char why[160];
  snprintf(why, sizeof why, "DTLS: %s", reason);
  fail(p, why);
}

static void dtls_closed(void *user) {
  struct tern_peer *p = user;
  if (p->closed)
    return;
  tern_log_info(p->id, "DTLS close_notify from the remote side");
  set_state(p, TERN_PEER_CLOSED);
}

static void dtls_data(void *user, const uint8_t *buf, size_t len) {
  struct tern_peer *p = user;
  if (!p->closed && p->dcs)
    tern_dc_set_input(p->dcs, buf, len);
}

static const struct tern_dtls_ops dtls_ops = {
    .send = dtls_send,
    .connected = dtls_connected,
    .failed = dtls_failed,
    .closed = dtls_closed,
    .data = dtls_data,
};

/* ---- SCTP / data channels --------------------------------------------------- */

static void sctp_send(void *user, const uint8_t *buf, size_t len) {
  struct tern_peer *p = user;
  if (!p->closed && p->dtls)
    tern_dtls_send(p->dtls, buf, len);
}

static void on_remote_channel(void *user, struct tern_dc *dc) {
  struct tern_peer *p = user;
  if (!p->closed && p->ops->datachannel)
    p->ops->datachannel(p, p->user, dc);
}

static const struct tern_dc_set_ops dc_set_ops = {.channel = on_remote_channel};

static int ensure_dcs(struct tern_peer *p) {
  if (p->dcs)
    return 0;
  /* The stream-id parity follows the DTLS role, known only once both
   * descriptions are in; apply_remote() corrects it before the start. */
  struct tern_dc_set_config cfg = {
      .dtls_client = p->have_remote ? p->dtls_role == TERN_DTLS_ROLE_CLIENT : p->controlling,
      .local_port = SCTP_PORT,
      .max_message_size = MAX_MESSAGE_SIZE,
      .log_id = p->id,
  };
  p->dcs = tern_dc_set_create_ex(p->env->sctp, &cfg, &dc_set_ops, p);
  if (!p->dcs)
    return -ENOMEM;
  tern_dc_set_set_send(p->dcs, sctp_send, p);
  return 0;
}

struct tern_dc *tern_peer_create_datachannel(struct tern_peer *p, const struct tern_dc_init *init,
                                             const struct tern_dc_ops *ops, void *user) {
  if (p->closed || ensure_dcs(p) < 0)
    return NULL;
  return tern_dc_create(p->dcs, init, ops, user);
}

/* ---- descriptions -------------------------------------------------------------- */

static void local_params(struct tern_peer *p, struct tern_local_params *l,
                         struct sockaddr_storage *cands, struct tern_local_track *tracks) {
  memset(l, 0, sizeof *l);
  l->ice_ufrag = tern_ice_agent_local_ufrag(p->ice);
  l->ice_pwd = tern_ice_agent_local_pwd(p->ice);
  l->fingerprint = p->env->fingerprint;
  l->ice_lite = !p->controlling;
  l->session_id = p->session_id;
  l->session_version = p->session_version;
  l->sctp_port = SCTP_PORT;
  l->max_message_size = MAX_MESSAGE_SIZE;
  l->datachannel = p->dcs != NULL;
  l->cname = p->cname;
  l->msid_stream = p->id;
  /* Candidates: the announced addresses with the socket's real port. */
  const struct sockaddr *local = (const struct sockaddr *)&p->env->transport->local;
  uint16_t port = local->sa_family == AF_INET ? ((const struct sockaddr_in *)local)->sin_port
                                              : ((const struct sockaddr_in6 *)local)->sin6_port;
  for (int i = 0; i < p->env->n_candidates; i++) {
    cands[i] = p->env->candidates[i];
    if (cands[i].ss_family == AF_INET)
      ((struct sockaddr_in *)&cands[i])->sin_port = port;
    else
      ((struct sockaddr_in6 *)&cands[i])->sin6_port = port;
  }
  l->candidates = cands;
  l->n_candidates = p->env->n_candidates;
  tern_peer_tracks_local(p, tracks);
  l->tracks = tracks;
  l->n_tracks = p->n_tracks;
}

static int set_local(struct tern_peer *p, const char *sdp, int len, enum tern_sdp_type type) {
  char *copy = malloc((size_t)len + 1);
  if (!copy)
    return -ENOMEM;
  memcpy(copy, sdp, (size_t)len);
  copy[len] = 0;
  free(p->local_sdp);
  p->local_sdp = copy;
  p->local_type = type;
  p->session_version++;
  return 0;
}

int tern_peer_create_offer(struct tern_peer *p, char *err, size_t errcap) {
  struct tern_local_params l;
  struct sockaddr_storage cands[TERN_PEER_MAX_CANDIDATES];
  struct tern_local_track tracks[TERN_PEER_MAX_TRACKS];
  char *buf;
  int n;

  if (p->closed || p->sig != TERN_SIGNALING_STABLE || p->local_sdp) {
    snprintf(err, errcap, "an offer can only be made once, in the stable state");
    return -EINVAL;
  }
  local_params(p, &l, cands, tracks);
  l.setup = TERN_SETUP_ACTPASS;
  if (!(buf = malloc(SDP_CAP)))
    return -ENOMEM;
  n = tern_negotiate_write_offer(&l, buf, SDP_CAP, err, errcap);
  if (n >= 0 && (n = set_local(p, buf, n, TERN_SDP_OFFER)) == 0)
    p->sig = TERN_SIGNALING_HAVE_LOCAL_OFFER;
  free(buf);
  return n < 0 ? n : 0;
}

/* Both descriptions are in: set up ICE and DTLS for the agreed roles. */
static int apply_remote(struct tern_peer *p, char *err, size_t errcap) {
  const struct tern_remote_params *r = &p->remote;
  char a[64];

  if (tern_ice_agent_set_remote_credentials(p->ice, r->ice_ufrag, r->ice_pwd) < 0) {
    snprintf(err, errcap, "ICE credentials rejected");
    return -EINVAL;
  }
  if (p->controlling) {
    /* Our checks go to these addresses, so their answers (which carry no
     * USERNAME) must route back to us. */
    for (int i = 0; i < r->n_candidates && i < MAX_BOUND; i++) {
      tern_ice_agent_add_remote_candidate(p->ice, (const struct sockaddr *)&r->candidates[i],
                                          r->priorities[i]);
      bind_addr(p, (const struct sockaddr *)&r->candidates[i]);
    }
    if (r->n_candidates == 0) {
      snprintf(err, errcap, "no usable ICE candidate in the remote description");
      return -EINVAL;
    }
  }
  p->dtls = tern_dtls_create(p->env->dtls, p->dtls_role, r->fp_alg, r->fp_value, &dtls_ops, p,
                             p->id);
  if (!p->dtls) {
    snprintf(err, errcap, "could not create the DTLS session");
    return -ENOMEM;
  }
  if (r->datachannel && ensure_dcs(p) < 0) {
    snprintf(err, errcap, "could not create the SCTP association");
    return -ENOMEM;
  }
  if (p->dcs)
    tern_dc_set_set_dtls_client(p->dcs, p->dtls_role == TERN_DTLS_ROLE_CLIENT);
  tern_log_info(p->id, "remote description applied: DTLS %s, %d candidate(s)%s%s",
                p->dtls_role == TERN_DTLS_ROLE_CLIENT ? "client" : "server", r->n_candidates,
                r->n_candidates ? ", first " : "",
                r->n_candidates ? tern_addr_str((const struct sockaddr *)&r->candidates[0], a,
                                                sizeof a)
                                : "");
  /* The DTLS server only waits for a ClientHello: it can listen now. */
  if (p->dtls_role == TERN_DTLS_ROLE_SERVER) {
    p->dtls_started = true;
    tern_dtls_start(p->dtls, now_ms(p));
    replay_early_dtls(p);
  }
  tern_ice_agent_start(p->ice, now_ms(p));
  arm(p);
  return 0;
}

int tern_peer_set_remote_description(struct tern_peer *p, enum tern_sdp_type type, const char *sdp,
                                     size_t len, char *err, size_t errcap) {
  struct tern_sdp *parsed = NULL;
  int rc;

  if (p->closed) {
    snprintf(err, errcap, "the connection is closed");
    return -EINVAL;
  }
  if (p->have_remote) {
    snprintf(err, errcap, "a remote description was already applied (renegotiation is not supported)");
    return -EINVAL;
  }
  if (type == TERN_SDP_ANSWER && p->sig != TERN_SIGNALING_HAVE_LOCAL_OFFER) {
    snprintf(err, errcap, "an answer needs a local offer first");
    return -EINVAL;
  }
  if (type == TERN_SDP_OFFER && p->sig != TERN_SIGNALING_STABLE) {
    snprintf(err, errcap, "an offer is only accepted in the stable state");
    return -EINVAL;
  }
  rc = tern_negotiate_read(sdp, len, type == TERN_SDP_ANSWER, p->local_sdp, &p->remote, &parsed,
                           err, errcap);
  if (rc < 0)
    return rc;
  /* DTLS role (RFC 8842 §5.3): the answerer picks; see peer.h. */
  if (type == TERN_SDP_ANSWER) {
    if (p->remote.setup == TERN_SETUP_ACTPASS || p->remote.setup == TERN_SETUP_NONE) {
      free(parsed);
      snprintf(err, errcap, "a=setup in an answer must be active or passive");
      return -EINVAL;
    }
    p->dtls_role = p->remote.setup == TERN_SETUP_ACTIVE ? TERN_DTLS_ROLE_SERVER
                                                         : TERN_DTLS_ROLE_CLIENT;
  } else {
    if (p->remote.setup == TERN_SETUP_ACTIVE)
      p->dtls_role = TERN_DTLS_ROLE_SERVER;
    else if (p->remote.setup == TERN_SETUP_PASSIVE)
      p->dtls_role = TERN_DTLS_ROLE_CLIENT;
    else
      p->dtls_role = p->controlling ? TERN_DTLS_ROLE_CLIENT : TERN_DTLS_ROLE_SERVER;
  }
  char *copy = malloc(len + 1);
  if (!copy) {
    free(parsed);
    return -ENOMEM;
  }
  memcpy(copy, sdp, len);
  copy[len] = 0;
  p->remote_sdp = copy;
  p->remote_type = type;
  p->have_remote = true;
  if (type == TERN_SDP_ANSWER) {
    free(parsed);
    p->sig = TERN_SIGNALING_STABLE;
    tern_peer_tracks_apply_answer(p);
    return apply_remote(p, err, errcap);
  }
  tern_peer_tracks_from_offer(p);
  p->remote_offer = parsed;
  p->sig = TERN_SIGNALING_HAVE_REMOTE_OFFER;
  return 0;
}

int tern_peer_create_answer(struct tern_peer *p, char *err, size_t errcap) {
  struct tern_local_params l;
  struct sockaddr_storage cands[TERN_PEER_MAX_CANDIDATES];
  struct tern_local_track tracks[TERN_PEER_MAX_TRACKS];
  char *buf;
  int n;

  if (p->closed || p->sig != TERN_SIGNALING_HAVE_REMOTE_OFFER) {
    snprintf(err, errcap, "an answer needs a remote offer first");
    return -EINVAL;
  }
  if (p->remote.datachannel && ensure_dcs(p) < 0)
    return -ENOMEM;
  local_params(p, &l, cands, tracks);
  l.setup = p->dtls_role == TERN_DTLS_ROLE_CLIENT ? TERN_SETUP_ACTIVE : TERN_SETUP_PASSIVE;
  if (!(buf = malloc(SDP_CAP)))
    return -ENOMEM;
  n = tern_negotiate_write_answer(&l, p->remote_offer, buf, SDP_CAP, err, errcap);
  if (n >= 0)
    n = set_local(p, buf, n, TERN_SDP_ANSWER);
  free(buf);
  if (n < 0)
    return n;
  free(p->remote_offer);
  p->remote_offer = NULL;
  p->sig = TERN_SIGNALING_STABLE;
  return apply_remote(p, err, errcap);
}

/* ---- lifetime ------------------------------------------------------------------ */

struct tern_peer *tern_peer_create(struct tern_peer_env *env, bool controlling,
                                   const struct tern_peer_ops *ops, void *user, const char *id) {
  static const struct tern_peer_ops no_ops;
  struct tern_peer *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  p->env = env;
  snprintf(p->id, sizeof p->id, "%s", id ? id : "peer");
  p->ops = ops ? ops : &no_ops;
  p->user = user;
  p->controlling = controlling;
  p->ep.h = &transport_handler;
  p->ep.user = p;
  getrandom(&p->session_id, sizeof p->session_id, 0);
  p->session_id &= 0x7fffffffffffffffULL; /* o= wants a positive 63-bit number */
  p->session_version = 1;
  struct tern_ice_config icfg = {.consent_timeout_ms = env->consent_timeout_ms};
  p->ice = tern_ice_agent_create(controlling ? TERN_ICE_ROLE_CONTROLLING
                                             : TERN_ICE_ROLE_CONTROLLED_LITE,
                                 &icfg, &ice_ops, p);
  if (!p->ice)
    goto err_free;
  if (tern_transport_add_ufrag(env->transport, tern_ice_agent_local_ufrag(p->ice), &p->ep) < 0)
    goto err_ice;
  uv_timer_init(env->loop, &p->timer);
  p->timer.data = p;
  env->peers_created++;
  env->peers_live++;
  env->peers_allocated++;
  return p;

err_ice:
  tern_ice_agent_destroy(p->ice);
err_free:
  free(p);
  return NULL;
}

static void on_peer_freed(uv_handle_t *h) {
  struct tern_peer *p = h->data;
  /* Layers go down child first; we are outside all of their callbacks. */
  if (p->dcs)
    tern_dc_set_destroy(p->dcs);
  if (p->dtls)
    tern_dtls_destroy(p->dtls);
  tern_ice_agent_destroy(p->ice);
  free(p->local_sdp);
  free(p->remote_sdp);
  free(p->remote_offer);
  free(p->early);
  tern_peer_media_free(p);
  p->env->peers_allocated--;
  free(p);
}

void tern_peer_close(struct tern_peer *p) {
  if (!p || p->closed)
    return;
  tern_log_info(p->id, "closing");
  /* Say goodbye while the layers can still send; then fall silent. */
  if (p->dtls && tern_dtls_state(p->dtls) == TERN_DTLS_CONNECTED)
    tern_dtls_close(p->dtls);
  p->closed = true;
  p->state = TERN_PEER_CLOSED;
  p->sig = TERN_SIGNALING_CLOSED;
  p->ice_state = TERN_ICE_CLOSED;
  tern_ice_agent_close(p->ice);
  tern_transport_remove_ufrag(p->env->transport, tern_ice_agent_local_ufrag(p->ice));
  for (int i = 0; i < p->n_bound; i++)
    tern_transport_unbind_addr(p->env->transport, (struct sockaddr *)&p->bound[i], &p->ep);
  p->n_bound = 0;
  p->env->peers_live--;
  uv_timer_stop(&p->timer);
  uv_close((uv_handle_t *)&p->timer, on_peer_freed);
}

const char *tern_peer_local_description(const struct tern_peer *p) { return p->local_sdp; }
const char *tern_peer_remote_description(const struct tern_peer *p) { return p->remote_sdp; }
enum tern_sdp_type tern_peer_local_type(const struct tern_peer *p) { return p->local_type; }
enum tern_sdp_type tern_peer_remote_type(const struct tern_peer *p) { return p->remote_type; }
const char *tern_peer_id(const struct tern_peer *p) { return p->id; }
enum tern_ice_state tern_peer_ice_state(const struct tern_peer *p) { return p->ice_state; }
enum tern_peer_state tern_peer_state(const struct tern_peer *p) { return p->state; }
enum tern_signaling_state tern_peer_signaling_state(const struct tern_peer *p) { return p->sig; }
