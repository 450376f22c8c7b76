import { handlers } from "../bind";

export const session = handlers({
  /** A fresh token for the same user moves the connection's expiry (see realtime/expiry.ts). */
  "auth:refresh": (input, ctx) => ctx.session.refresh(input.token),
});
