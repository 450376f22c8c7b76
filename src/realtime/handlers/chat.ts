import { handlers } from "../bind";

/** Room messages and their history; storage, dedupe and membership live in domain/chat. */
export const chat = handlers({
  "message:send": (input, ctx) => ctx.services.chat.send({ socketId: ctx.socket.id, userId: ctx.user.id }, input),
  "message:history": (input, ctx) => ctx.services.chat.history({ socketId: ctx.socket.id, userId: ctx.user.id }, input),
});
