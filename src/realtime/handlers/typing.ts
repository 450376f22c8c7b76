import { handlers } from "../bind";

/** Typing indicators: members only; the server ends a start by itself (see domain/typing). */
export const typing = handlers({
  "typing:start": (input, ctx) =>
    ctx.services.typing.start({ socketId: ctx.socket.id, userId: ctx.user.id }, input.roomId),
  "typing:stop": (input, ctx) =>
    ctx.services.typing.stop({ socketId: ctx.socket.id, userId: ctx.user.id }, input.roomId),
});
