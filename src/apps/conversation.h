/* conversation — Beep's rooms: everyone in a conversation hears everyone
 * else, mixed by the server (one mixer and one 20 ms clock per room).
 *
 * A member is one client's audio track. Joining sets the track's ops (its
 * RTP goes to the room's mixer) and the room sends each member its mix on
 * the same track. A room exists while it has members. Leaving takes effect
 * at the next 20 ms frame and never calls back. */
#ifndef TERN_CONVERSATION_H
#define TERN_CONVERSATION_H

#include <stddef.h>
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
size_t tern_rooms_count(const struct tern_rooms *r);
size_t tern_rooms_members(const struct tern_rooms *r);

#endif
