/* apps — the node-webrtc-examples, one file each, mounted on the REST API.
 *
 * An example sees a connection's peer, its data channels and (later) its
 * tracks, never ICE or DTLS. Each mount function registers the example's
 * routes under "/<name>" and returns its connection manager, which the
 * server destroys at shutdown.
 */
#ifndef TERN_APPS_H
#define TERN_APPS_H

#include "api/connections.h"

struct tern_conns *tern_app_ping_pong_mount(const struct tern_conns_env *env);
struct tern_conns *tern_app_buffer_limits_mount(const struct tern_conns_env *env);
struct tern_conns *tern_app_loopback_mount(const struct tern_conns_env *env);
struct tern_conns *tern_app_sine_wave_mount(const struct tern_conns_env *env);
struct tern_conns *tern_app_sine_wave_stereo_mount(const struct tern_conns_env *env);
struct tern_conns *tern_app_pitch_detector_mount(const struct tern_conns_env *env);
struct tern_conns *tern_app_video_compositing_mount(const struct tern_conns_env *env);
/* Records to recordings_dir/<id>.webm; also serves GET
 * /record-audio-video-stream/recordings/:name (finished files only). */
struct tern_conns *tern_app_record_mount(const struct tern_conns_env *env,
                                         const char *recordings_dir);
/* broadcaster and viewer share one broadcast: two managers from one call. */
int tern_app_broadcast_mount(const struct tern_conns_env *env, struct tern_conns **broadcaster,
                             struct tern_conns **viewer);

#endif
