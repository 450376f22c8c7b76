/**
 * Binds handler tables (keyed by the generated event names) to a socket. Every payload passes its
 * generated validator before the handler runs; the handler's result becomes the ack
 * `{ success: true, data }`, a thrown AppError `{ success: false, error }`. Without an ack
 * callback a failure is sent as an `error` event instead, so nothing fails silently.
 */
import type { z } from "zod";
import {
  type ClientEventName,
  type ClientEventPayload,
  clientEventReplySchemas,
  clientEventSchemas,
  type ServerEventName,
  type ServerEventPayload,
} from "../../generated/events";
import { AppError, fieldIssues, invalidInput } from "../domain/errors";
import type { Drain } from "../lifecycle";
import type { Logger } from "../observability/logger";
import type { EventOutcome, Metrics } from "../observability/metrics";
import type { Services } from "../services";
import type { AppServer, AppSocket, SocketData } from "./types";

export interface HandlerContext {
  socket: AppSocket;
  user: SocketData["user"];
  io: AppServer;
  services: Services;
  log: Logger;
  /** Emit a declared server event to this socket only. */
  emit<E extends ServerEventName>(event: E, payload: ServerEventPayload<E>): void;
}

type ReplySchemas = typeof clientEventReplySchemas;
// biome-ignore lint/suspicious/noConfusingVoidType: events without a reply return nothing
type ReplyOf<E extends ClientEventName> = E extends keyof ReplySchemas ? z.input<ReplySchemas[E]> : void;

export type Handler<E extends ClientEventName> = (
  input: ClientEventPayload<E>,
  ctx: HandlerContext,
) => Promise<ReplyOf<E>> | ReplyOf<E>;

export type HandlerTable = { [E in ClientEventName]?: Handler<E> };

/** Declares a table of handlers; a key that is not a declared client event fails to typecheck. */
export function handlers<const T extends HandlerTable>(table: T & Record<Exclude<keyof T, ClientEventName>, never>): T {
  return table;
}

type AckFn = (response: unknown) => void;

export interface BindDeps {
  io: AppServer;
  services: Services;
  metrics: Metrics;
  log: Logger;
  drain: Drain;
}

export function bindHandlers(socket: AppSocket, tables: Record<string, HandlerTable>, deps: BindDeps) {
  const log = deps.log.child({ socketId: socket.id, userId: socket.data.user.id });
  const ctx: HandlerContext = {
    socket,
    user: socket.data.user,
    io: deps.io,
    services: deps.services,
    log,
    emit: (event, payload) => (socket.emit as (e: string, p: unknown) => void)(event, payload),
  };
  const count = (event: string, outcome: EventOutcome) => deps.metrics.socketEvents.inc({ event, outcome });

  const fail = (event: string, error: AppError, outcome: EventOutcome, ack: AckFn | undefined) => {
    count(event, outcome);
    if (ack) ack({ success: false, error: error.toBody() });
    else ctx.emit("error", error.toBody());
  };

  for (const table of Object.values(tables)) {
    for (const [event, handler] of Object.entries(table) as [ClientEventName, Handler<ClientEventName>][]) {
      const run = async (args: unknown[]) => {
        const ack = typeof args.at(-1) === "function" ? (args.pop() as AckFn) : undefined;
        const parsed = clientEventSchemas[event].safeParse(args.length === 0 ? {} : args[0]);
        if (!parsed.success) return fail(event, invalidInput(fieldIssues(parsed.error.issues)), "invalid", ack);
        try {
          const result = await handler(parsed.data as never, ctx);
          const replySchema = (clientEventReplySchemas as Partial<Record<string, z.ZodType>>)[event];
          let data: unknown = null;
          if (replySchema) {
            const reply = replySchema.safeParse(result);
            if (!reply.success) {
              log.error({ event, issues: reply.error.issues }, "handler reply breaks its contract");
              return fail(event, new AppError("INTERNAL", "Internal error"), "error", ack);
            }
            data = reply.data;
          }
          count(event, "ok");
          ack?.({ success: true, data });
        } catch (error) {
          if (!(error instanceof AppError)) log.error({ err: error, event }, "handler failed");
          fail(event, AppError.from(error), "error", ack);
        }
      };
      socket.on(event, (...args: unknown[]) => void deps.drain.track(run(args)));
    }
  }

  // Events nobody declared get a clear answer instead of silence.
  socket.onAny((event: string, ...args: unknown[]) => {
    if (Object.hasOwn(clientEventSchemas, event)) return;
    const ack = typeof args.at(-1) === "function" ? (args.at(-1) as AckFn) : undefined;
    fail("(unknown)", new AppError("NOT_FOUND", `Unknown event "${event}"`), "unknown", ack);
  });
}
