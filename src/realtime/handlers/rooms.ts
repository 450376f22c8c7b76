import type { RoomRef } from "../../../generated/events";
import { handlers } from "../bind";

/** The room comes bare (seed 000) or as `{ roomId }`. */
const roomIdOf = (ref: RoomRef) => (typeof ref === "string" ? ref : ref.roomId);

/** Joining and leaving rooms; reserved rooms, the `rooms` claim and announcements live in domain/rooms. */
export const rooms = handlers({
  "room:join": (input, ctx) =>
    ctx.services.rooms.join(
      { socketId: ctx.socket.id, userId: ctx.user.id, roomsClaim: ctx.user.claims.rooms },
      roomIdOf(input),
    ),
  "room:leave": (input, ctx) =>
    ctx.services.rooms.leave({ socketId: ctx.socket.id, userId: ctx.user.id }, roomIdOf(input)),
});
