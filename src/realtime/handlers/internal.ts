/**
 * The `/internal` namespace's handlers (seed 002's internal gateway, for backend services). Typed by
 * the namespace's own generated maps; `send_message` acks seed 002's shape itself (`x-ack: raw`).
 */
import type { z } from "zod";
import type { InternalClientEventName, InternalClientEventPayload, namespaces } from "../../../generated/events";
import type { HandlerContext } from "../bind";

type Replies = (typeof namespaces)["/internal"]["clientEventReplySchemas"];
export type InternalHandlerTable = {
  [E in InternalClientEventName]?: (
    input: InternalClientEventPayload<E>,
    ctx: HandlerContext,
  ) => Promise<z.input<Replies[E]>> | z.input<Replies[E]>;
};

/** Declares an /internal table; a key that is not an /internal client event fails to typecheck. */
const internalHandlers = <const T extends InternalHandlerTable>(
  table: T & Record<Exclude<keyof T, InternalClientEventName>, never>,
): T => table;

export const internal = internalHandlers({
  /**
   * The same delivery as `message:direct` (offline recipients are stored for their next connect), with
   * `metadata.source = "internal_service"`, answered in seed 002's shape: stored recipients count as sent.
   */
  send_message: (input, ctx) => ctx.services.direct.sendFromService(ctx.user.id, input),
});
