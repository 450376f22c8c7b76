import { handlers } from "../bind";

export const direct = handlers({
  /** Seed 002: online recipients now, offline ones on their next connect (see domain/direct). */
  "message:direct": (input, ctx) => ctx.services.direct.send(ctx.user.id, input),
});
