/** The operations table as REST routes: one loop, nothing per operation. */
import type { AnyElysia } from "elysia";
import { operations } from "../../contracts/admin";
import { type AnyOperation, isQuery } from "../../contracts/operation";
import { AppError } from "../domain/errors";
import type { OperationImpls } from "./operations";
import { runOperation } from "./operations/run";
import type { RequestContextFn } from "./request-context";

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Path params, then the query string (GET, DELETE) or the JSON body: one input object. */
function inputOf(op: AnyOperation, params: Record<string, string>, query: Record<string, unknown>, body: unknown) {
  if (isQuery(op) || op.method === "DELETE") return { ...query, ...params };
  if (body === undefined || body === null || body === "") return { ...params };
  if (!isPlainObject(body)) {
    throw new AppError("BAD_REQUEST", "Body must be a JSON object (Content-Type: application/json)");
  }
  return { ...body, ...params };
}

export const restRoutes = (impls: OperationImpls, requestContext: RequestContextFn) => (app: AnyElysia) => {
  for (const op of operations as readonly AnyOperation[]) {
    const fn = impls[op.name as keyof OperationImpls] as never;
    app.route(
      op.method,
      op.path,
      ({ request, params, query, body }) =>
        runOperation(op, fn, inputOf(op, params as Record<string, string>, query, body), requestContext(request)),
      { detail: { hide: true } },
    );
  }
  return app;
};
