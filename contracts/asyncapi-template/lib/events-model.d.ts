/** Types of events-model.js (the Socket.IO view of a parsed AsyncAPI 3.0 document). */
export declare class ContractError extends Error {}
export declare const RESERVED_EVENTS: readonly string[];
export declare const ERROR_BODY: "ErrorBody";

export interface EventModel {
  /** The Socket.IO event name (the channel's address). */
  name: string;
  /** The key in the ClientEvents / ServerEvents constants ("message:send" -> "messageSend"). */
  key: string;
  operationId: string;
  channelId: string;
  description: string | undefined;
  /** TS names of the payload schemas (usually one). */
  payload: string[];
  /** TS names of the ack data schemas; null when the event has no ack. */
  reply: string[] | null;
  /** How the ack carries the reply (`x-ack`): `{ success: true, data }`, or the reply itself. */
  ack: "envelope" | "raw";
  /** `x-replay`: false keeps a server -> client event out of connection state recovery. */
  replay: boolean;
}
export interface NamespaceModel {
  /** The namespace path ("/" or "/internal"). */
  path: string;
  /** The prefix of generated names: "" for "/", "Internal" for "/internal". */
  prefix: string;
  /** The server entries of this namespace. */
  servers: string[];
  /** client -> server (receive) events, by name. */
  client: EventModel[];
  /** server -> client (send) events, by name. */
  server: EventModel[];
}
export interface SchemaModel {
  name: string;
  source: string;
  json: Record<string, unknown>;
  description: string | undefined;
}
export interface DynamicEventModel {
  address: string;
  direction: "client" | "server";
  operationId: string;
  namespaces: string[];
}
export interface EventsModel {
  title: string;
  version: string;
  namespaces: NamespaceModel[];
  /** Declaration order: every schema after the ones it references. */
  schemas: SchemaModel[];
  dynamic: DynamicEventModel[];
  nameOf: (node: object) => string | undefined;
}
/** `doc`: a document parsed by @asyncapi/parser (parser-api v3). Throws ContractError. */
export declare function buildEventsModel(doc: unknown): EventsModel;
export declare function receiveEventsByNamespace(model: EventsModel): Record<string, string[]>;
export declare function camelKey(eventName: string): string;
export declare function namespacePrefix(path: string): string;
