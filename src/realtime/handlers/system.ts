import { handlers } from "../bind";

export const system = handlers({
  /** Answers with the server time, in the ack and as a `pong` event (seed 004). */
  ping: (input, ctx) => {
    const pong = { timestamp: new Date().toISOString(), ...(input.id === undefined ? {} : { id: input.id }) };
    ctx.emit("pong", pong);
    return pong;
  },
});
