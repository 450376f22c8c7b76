import { handlers } from "../bind";

/** Delivery and read receipts, told to every device of the sender (see domain/receipts). */
export const receipts = handlers({
  "message:delivered": (input, ctx) =>
    ctx.services.receipts.confirm("delivered", { socketId: ctx.socket.id, userId: ctx.user.id }, input.messageId),
  "message:read": (input, ctx) =>
    ctx.services.receipts.confirm("read", { socketId: ctx.socket.id, userId: ctx.user.id }, input.messageId),
});
