/**
 * Binds handler tables (keyed by the generated event names) to sockets. Every payload passes its
 * generated validator before the handler runs; the handler's result becomes the ack
 * `{ success: true, data }`, a thrown AppError `{ success: false, error }`. Without an ack
 * callback a failure is sent as an `error` event instead, so nothing fails silently. An undeclared
 * event is NOT_FOUND unless it is a dynamic event registered right now (seed 000's subscribers, main
 * namespace only), which `services.dynamicEvents` answers after the same rate limit.
 */
import type { z } from "zod";
import {
  type ClientEventName,
  type ClientEventPayload,
  clientEventReplySchemas,
  clientEventSchemas,
  type ServerEventName,
  type ServerEventPayload,
  unreplayedEvents,
} from "../../generated/events";
import { AppError, clip, fieldIssues, invalidInput } from "../domain/errors";
import { createTokenBucket } from "../domain/limits/token-bucket";
import type { Drain } from "../lifecycle";
import type { Logger } from "../observability/logger";
import type { EventOutcome, Metrics } from "../observability/metrics";
import type { Services } from "../services";
import { emitLive } from "./live-emit";
import type { Session } from "./session";
import type { AppSocket, SocketData } from "./types";

export interface HandlerContext {
  socket: AppSocket;
  user: SocketData["user"];
  services: Services;
  /** This connection's token: refresh it, see when it expires. */
  session: Session;
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

/** One namespace's side of the generated contract: `namespaces[path]` of generated/events.ts. */
export interface NamespaceContract {
  clientEventSchemas: Readonly<Record<string, z.ZodType>>;
  clientEventReplySchemas: Readonly<Partial<Record<string, z.ZodType>>>;
  /** Events whose ack is the reply itself, not `{ success: true, data }` (`x-ack: raw`). */
  rawAckEvents: readonly string[];
  /** Server events not kept for connection state recovery (`x-replay: false`). */
  unreplayedEvents: readonly string[];
}

/** Declares a table of handlers; a key that is not a declared client event fails to typecheck. */
export function handlers<const T extends HandlerTable>(table: T & Record<Exclude<keyof T, ClientEventName>, never>): T {
  return table;
}

type AckFn = (response: unknown) => void;

/** The metric label of every dynamic event (names are chosen at run time: one label keeps the series bounded). */
const DYNAMIC = "(dynamic)";

export interface BindDeps {
  services: Services;
  metrics: Metrics;
  log: Logger;
  drain: Drain;
  /** The client → server events asyncapi.yaml declares for this socket's namespace. */
  declared: readonly string[];
  /** True once shutdown began: new events are refused, events in flight finish. */
  stopping(): boolean;
  /** Per-socket token bucket (SOCKET_RATE_LIMIT / _BURST / _ABUSE_LIMIT); none: unlimited (/internal). */
  rateLimit?: { ratePerSecond: number; burst: number; abuseLimit: number };
  /** The namespace's validators and ack styles; default: the main namespace's. */
  contract?: NamespaceContract;
  /** Run-time event names (seed 000's subscribers) are answered here: the main namespace only. */
  dynamicEvents?: boolean;
}

const mainContract: NamespaceContract = {
  clientEventSchemas,
  clientEventReplySchemas,
  rawAckEvents: [],
  unreplayedEvents,
};

/** A socket's handler context. Getters and methods live on the prototype: a connection costs one small object. */
class SocketContext implements HandlerContext {
  #log: Logger | undefined;
  constructor(
    readonly socket: AppSocket,
    readonly services: Services,
    readonly session: Session,
    private readonly baseLog: Logger,
    private readonly live: ReadonlySet<string>,
  ) {}
  get user() {
    return this.socket.data.user; // replaced by auth:refresh
  }
  /** One child logger per socket, made only when something is logged (most sockets never log here). */
  get log() {
    this.#log ??= this.baseLog.child({ socketId: this.socket.id, userId: this.socket.data.user.id });
    return this.#log;
  }
  emit<E extends ServerEventName>(event: E, payload: ServerEventPayload<E>) {
    if (this.live.has(event)) emitLive(this.socket, event, payload);
    else (this.socket.emit as (e: string, p: unknown) => void)(event, payload);
  }
}

/** What one socket carries between its events. */
interface Bound {
  ctx: SocketContext;
  bucket: ReturnType<typeof createTokenBucket> | undefined;
}

/**
 * Prepares a namespace's handler tables once; the returned function binds them to each socket with
 * one `onAny` listener (a listener per event per socket cost time on every connect, and memory).
 */
export function createBinder(tables: Record<string, HandlerTable>, deps: BindDeps) {
  const contract = deps.contract ?? mainContract;
  const schemas = contract.clientEventSchemas;
  const reply = contract.clientEventReplySchemas;
  const rawAck = new Set(contract.rawAckEvents);
  const live = new Set(contract.unreplayedEvents);
  const declared = new Set(deps.declared);
  const handlersByEvent = new Map<string, Handler<ClientEventName>>();
  for (const table of Object.values(tables)) {
    for (const [event, handler] of Object.entries(table)) {
      if (declared.has(event)) handlersByEvent.set(event, handler as Handler<ClientEventName>);
    }
  }
  const count = (event: string, outcome: EventOutcome) => deps.metrics.socketEvents.inc({ event, outcome });

  const fail = (b: Bound, event: string, error: AppError, outcome: EventOutcome, ack: AckFn | undefined) => {
    count(event, outcome);
    if (ack) ack({ success: false, error: error.toBody() });
    else b.ctx.emit("error", error.toBody());
  };

  /** false when the event must not run: over the rate (answered RATE_LIMITED; persistent abuse disconnects). */
  const admit = (b: Bound, event: string, ack: AckFn | undefined): boolean => {
    if (!b.bucket || b.bucket.take()) return true;
    const limit = deps.rateLimit as NonNullable<BindDeps["rateLimit"]>;
    fail(
      b,
      event,
      new AppError("RATE_LIMITED", `Too many events: at most ${limit.ratePerSecond} per second`),
      "rate_limited",
      ack,
    );
    if (b.bucket.refusedLastMinute > limit.abuseLimit) {
      b.ctx.log.warn(
        { event: "socket_abuse", refused: b.bucket.refusedLastMinute },
        "too many refused events: disconnected",
      );
      b.ctx.socket.disconnect(true);
    }
    return false;
  };

  /** The handler's result becomes the ack, once it passed the reply schema. */
  const finish = (b: Bound, event: string, ack: AckFn | undefined, result: unknown) => {
    let data: unknown = null;
    const replySchema = reply[event];
    if (replySchema) {
      const checked = replySchema.safeParse(result);
      if (!checked.success) {
        b.ctx.log.error({ event, issues: checked.error.issues }, "handler reply breaks its contract");
        return fail(b, event, new AppError("INTERNAL", "Internal error"), "error", ack);
      }
      data = checked.data;
    }
    count(event, "ok");
    ack?.(rawAck.has(event) ? data : { success: true, data });
  };
  const failed = (b: Bound, event: string, ack: AckFn | undefined, error: unknown) => {
    if (!(error instanceof AppError)) b.ctx.log.error({ err: error, event }, "handler failed");
    fail(b, event, AppError.from(error), "error", ack);
  };

  /**
   * Runs one event. A handler that answers synchronously is acked in the same tick (no promise, no
   * in-flight tracking); one that returns a promise is tracked, so shutdown waits for its ack.
   */
  const run = (b: Bound, event: string, handler: Handler<ClientEventName>, args: unknown[]) => {
    const ack = typeof args.at(-1) === "function" ? (args.pop() as AckFn) : undefined;
    try {
      if (!admit(b, event, ack)) return;
      if (deps.stopping()) {
        return fail(
          b,
          event,
          new AppError("SERVICE_UNAVAILABLE", "Server is shutting down: retry"),
          "unavailable",
          ack,
        );
      }
      const parsed = (schemas[event] as z.ZodType).safeParse(args.length === 0 ? {} : args[0]);
      if (!parsed.success) return fail(b, event, invalidInput(fieldIssues(parsed.error.issues)), "invalid", ack);
      const result: unknown = handler(parsed.data as never, b.ctx);
      if (result instanceof Promise) {
        void deps.drain.track(
          result.then(
            (r) => finish(b, event, ack, r),
            (error) => failed(b, event, ack, error),
          ),
        );
      } else finish(b, event, ack, result);
    } catch (error) {
      failed(b, event, ack, error);
    }
  };

  /** A registered dynamic event (seed 000): the domain answers it; the metric label is one for all names. */
  const runDynamic = async (b: Bound, event: string, payload: unknown, ack: AckFn | undefined) => {
    if (deps.stopping()) {
      return fail(
        b,
        DYNAMIC,
        new AppError("SERVICE_UNAVAILABLE", "Server is shutting down: retry"),
        "unavailable",
        ack,
      );
    }
    try {
      const data = await deps.services.dynamicEvents.handle(
        { socketId: b.ctx.socket.id, userId: b.ctx.user.id },
        event,
        payload,
      );
      count(DYNAMIC, "ok");
      ack?.({ success: true, data });
    } catch (error) {
      if (!(error instanceof AppError)) b.ctx.log.error({ err: error, event }, "dynamic event failed");
      const failure = AppError.from(error);
      fail(b, DYNAMIC, failure, failure.code === "BAD_REQUEST" ? "invalid" : "error", ack);
    }
  };

  /**
   * Every incoming event: a declared and handled one runs; a registered dynamic event is answered by
   * the domain; undeclared events, and declared ones this server has no handler for, get a clear
   * answer. All of them go through the rate limit first.
   */
  const dispatch = (b: Bound, event: string, args: unknown[]) => {
    const handler = handlersByEvent.get(event);
    if (handler) return run(b, event, handler, args);
    const ack = typeof args.at(-1) === "function" ? (args.at(-1) as AckFn) : undefined;
    const dynamic =
      deps.dynamicEvents === true && !declared.has(event) && deps.services.dynamicEvents.registered(event);
    if (!admit(b, dynamic ? DYNAMIC : "(unknown)", ack)) return;
    if (dynamic) return void deps.drain.track(runDynamic(b, event, args[0] === ack ? undefined : args[0], ack));
    const name = clip(String(event));
    if (declared.has(event)) {
      b.ctx.log.error({ event }, "declared event has no handler");
      return fail(
        b,
        event,
        new AppError("NOT_IMPLEMENTED", `Event "${name}" is declared but not handled by this server`),
        "not_implemented",
        ack,
      );
    }
    fail(b, "(unknown)", new AppError("NOT_FOUND", `Unknown event "${name}"`), "unknown", ack);
  };

  return (socket: AppSocket, session: Session) => {
    const b: Bound = {
      ctx: new SocketContext(socket, deps.services, session, deps.log, live),
      bucket: deps.rateLimit ? createTokenBucket(deps.rateLimit) : undefined,
    };
    socket.onAny((event: string, ...args: unknown[]) => dispatch(b, event, args));
  };
}
