/**
 * An admin operation: one entry of the table that REST routes, OpenAPI, the tRPC router and the
 * typed admin client are all built from. Entries hold no logic.
 */
import type { z } from "zod";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
/**
 * admin: `Authorization: Bearer <API_TOKEN>` (or the bare token), or a JWT whose `role` is `admin`;
 * user: the caller's own end-user JWT (the operation acts for it); public: no credentials.
 */
export type Auth = "admin" | "user" | "public";

export interface Operation<
  Name extends `${string}.${string}` = `${string}.${string}`,
  Input extends z.ZodObject = z.ZodObject,
  Output extends z.ZodType = z.ZodType,
  Method extends HttpMethod = HttpMethod,
> {
  /** `group.action`: the tRPC path (`client.group.action`) and the OpenAPI operationId. */
  name: Name;
  /** Kept literal: the router type makes GET a tRPC query and everything else a mutation. */
  method: Method;
  /** Express-style path; `:param` segments are read into the input object. */
  path: string;
  auth: Auth;
  /**
   * One object for every transport. REST fills it from path params, then the query string
   * (GET, DELETE) or the JSON body (POST, PUT, PATCH); tRPC sends it whole.
   */
  input: Input;
  output: Output;
  summary: string;
  description?: string;
  /**
   * A documented call: its input (path, query and body fields in one object) and the answer. Shown in
   * the OpenAPI document; a test checks both against the schemas (and the seeds' examples where they exist).
   */
  example: { input: z.input<Input>; output: z.input<Output> };
}

export type AnyOperation = Operation<`${string}.${string}`, z.ZodObject, z.ZodType, HttpMethod>;

/** Keeps every literal the types downstream read: the name (tRPC path), the method, the schemas. */
export function operation<
  const Name extends `${string}.${string}`,
  Input extends z.ZodObject,
  Output extends z.ZodType,
  const Method extends HttpMethod,
>(op: Operation<Name, Input, Output, Method>): Operation<Name, Input, Output, Method> {
  return op;
}

/** Reads mutate (tRPC mutation); GET reads are tRPC queries. */
export const isQuery = (op: AnyOperation) => op.method === "GET";

/** `/subscribers/:id` -> ["id"] */
export const pathParams = (path: string) => [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string);
