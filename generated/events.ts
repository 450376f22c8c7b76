// PLACEHOLDER written by hand until the generator exists; `bun run generate` replaces it.
import { z } from "zod";

export const ErrorBody = z.object({
  code: z.enum(["BAD_REQUEST", "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "CONFLICT", "PAYLOAD_TOO_LARGE", "RATE_LIMITED", "INTERNAL"]),
  message: z.string(),
  details: z.unknown().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
export const PingPayload = z.object({ id: z.string().max(128).optional() }).strict();
export type PingPayload = z.infer<typeof PingPayload>;
export const Pong = z.object({ timestamp: z.iso.datetime(), id: z.string().max(128).optional() });
export type Pong = z.infer<typeof Pong>;
export const Connected = z.object({ userId: z.string(), socketId: z.string(), connectedAt: z.iso.datetime() });
export type Connected = z.infer<typeof Connected>;

export type Ack<T> = { success: true; data: T } | { success: false; error: ErrorBody };

export interface ClientToServerEvents {
  ping: (payload: PingPayload, ack: (response: Ack<Pong>) => void) => void;
}
export interface ServerToClientEvents {
  connected: (payload: Connected) => void;
  pong: (payload: Pong) => void;
  error: (payload: ErrorBody) => void;
}
export const ClientEvents = { ping: "ping" } as const;
export const ServerEvents = { connected: "connected", pong: "pong", error: "error" } as const;
export type ClientEventName = keyof ClientToServerEvents;
export type ServerEventName = keyof ServerToClientEvents;
export const clientEventSchemas = { ping: PingPayload } as const;
export const clientEventReplySchemas = { ping: Pong } as const;
export const serverEventSchemas = { connected: Connected, pong: Pong, error: ErrorBody } as const;
export type ClientEventPayload<E extends ClientEventName> = z.output<(typeof clientEventSchemas)[E]>;
export type ClientEventReply<E extends ClientEventName> = z.output<(typeof clientEventReplySchemas)[E]>;
export type ServerEventPayload<E extends ServerEventName> = z.output<(typeof serverEventSchemas)[E]>;
