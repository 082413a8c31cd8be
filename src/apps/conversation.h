/* conversation — Beep's rooms: everyone in a conversation hears everyone
 * else, mixed by the server (one mixer and one 20 ms clock per room).
 *
 * A member is one client's audio track. Joining sets the track's ops (its
 * RTP goes to the room's mixer) and the room sends each member its mix on
 * the same track. A room exists while it has members. Leaving takes effect
 * at the next 20 ms frame and never calls back.
 *
 * Frame hook (optional, for publishing a conversation's audio, e.g. to
 * NATS): once per room per 20 ms tick, on the loop thread, with the Opus
 * payload of the shared mix — the frame every listener of that tick hears
 * (everyone who is speaking, summed; nobody's own voice removed). It is the
 * mixer's one shared encode, so the hook costs no extra encode; a tick in
 * which every member is speaking (no listener, so no shared encode) has no
 * frame. The payload is valid during the call only. The hook must not join
 * or leave rooms, nor destroy them. */
#ifndef TERN_CONVERSATION_H
#define TERN_CONVERSATION_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct tern_track;
struct tern_rooms;
struct tern_room_member;

struct tern_rooms *tern_rooms_create(uv_loop_t *loop);
/* Every member must have left. Rooms close their clocks asynchronously. */
void tern_rooms_destroy(struct tern_rooms *r);

struct tern_room_member *tern_rooms_join(struct tern_rooms *r, const char *conversation_id,
                                         struct tern_track *track, const char *log_id);
void tern_rooms_leave(struct tern_room_member *m);
typedef void (*tern_rooms_frame_cb)(const char *conversation_id, const uint8_t *opus, size_t len,
                                    void *user);
/* cb NULL = off. Takes effect at the next tick. */
void tern_rooms_set_frame_cb(struct tern_rooms *r, tern_rooms_frame_cb cb, void *user);

size_t tern_rooms_count(const struct tern_rooms *r);
size_t tern_rooms_members(const struct tern_rooms *r);

#endif
