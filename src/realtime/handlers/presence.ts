import { handlers } from "../bind";

/** Status and presence lists; friends-only privacy lives in domain/presence. */
export const presence = handlers({
  /** The status comes bare (seed 001) or as `{ status }`. */
  "user:status": (input, ctx) =>
    ctx.services.presence.setStatus(ctx.user.id, typeof input === "string" ? input : input.status),
  "presence:friends": (_input, ctx) => ctx.services.presence.friends(ctx.user.id),
  "presence:online": (_input, ctx) => ctx.services.presence.online(),
  "presence:detailed": (_input, ctx) => ctx.services.presence.detailed(),
});
