/**
 * The delivery port on Socket.IO: every call goes through room operations of the main namespace
 * (`io.to(room)`, `in(room).fetchSockets()`, ...), which every adapter carries across nodes. A socket
 * is addressed as the room named by its id, a user as `user:<id>`.
 */
import type { ConnectionInfo, Delivery, Target } from "../domain/delivery";
import { userRoom } from "../domain/delivery";
import type { AppServer } from "./types";

type Scoped = Exclude<Target, { everyone: true }>;

const roomOf = (target: Scoped): string =>
  "room" in target ? target.room : "user" in target ? userRoom(target.user) : target.socket;

export function createDelivery(io: AppServer): Delivery {
  const nsp = io.of("/");
  const scope = (target?: Scoped) => (target ? nsp.in(roomOf(target)) : nsp);

  const emit = (target: Target, event: string, payload: unknown) => {
    const except = ("except" in target && target.except) || [];
    const operator = "everyone" in target ? nsp.except(except) : nsp.to(roomOf(target)).except(except);
    (operator.emit as (e: string, p: unknown) => void)(event, payload);
  };

  return {
    emit,
    emitDynamic: emit,
    inRoom(socketId, room) {
      const local = nsp.sockets.get(socketId);
      if (local) return local.rooms.has(room);
      return nsp
        .in(socketId)
        .fetchSockets()
        .then((sockets) => sockets.some((s) => s.id === socketId && s.rooms.has(room)));
    },
    async join(socketId, room) {
      nsp.in(socketId).socketsJoin(room);
    },
    async leave(socketId, room) {
      nsp.in(socketId).socketsLeave(room);
    },
    async disconnect(target) {
      const sockets = await scope(target).fetchSockets();
      scope(target).disconnectSockets(true);
      return sockets.length;
    },
    async connections(target) {
      const sockets = await scope(target).fetchSockets();
      return sockets.map(
        (s): ConnectionInfo => ({
          socketId: s.id,
          userId: s.data.user.id,
          channel: s.data.channel ?? null,
          connectedAt: s.data.connectedAt,
          rooms: [...s.rooms],
        }),
      );
    },
    async count(target) {
      return (await scope(target).fetchSockets()).length;
    },
  };
}
