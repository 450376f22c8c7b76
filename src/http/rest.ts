/** The operations table as REST routes: one loop, nothing per operation. */
import type { AnyElysia } from "elysia";
import { operations } from "../../contracts/admin";
import { type AnyOperation, isQuery } from "../../contracts/operation";
import { AppError } from "../domain/errors";
import { readJsonBody } from "./body";
import { coerceInput, queryOf } from "./coerce";
import type { OperationImpls } from "./operations";
import { checkAuth, runOperation } from "./operations/run";
import type { RequestContextFn } from "./request-context";

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const withBody = (body: unknown, path: Record<string, unknown>) => {
  if (body === undefined) return path;
  if (!isPlainObject(body)) throw new AppError("BAD_REQUEST", "Body must be a JSON object");
  return { ...body, ...path };
};

/**
 * Path params, then the query string (GET, DELETE) or the JSON body: one input object. Text from
 * the path and the query is converted by the input schema (`?limit=2` is the number 2). A promise
 * only when a body is read.
 */
function inputOf(op: AnyOperation, request: Request, params: Record<string, string>, maxBodyBytes: number) {
  const path = coerceInput(op.input, params);
  if (isQuery(op) || op.method === "DELETE") return { ...coerceInput(op.input, queryOf(request.url)), ...path };
  const body = readJsonBody(request, maxBodyBytes);
  return body === undefined ? path : body.then((b) => withBody(b, path));
}

export const restRoutes = (impls: OperationImpls, requestContext: RequestContextFn) => (app: AnyElysia) => {
  const { maxBodyBytes } = requestContext.limits;
  const { json } = requestContext;
  for (const op of operations as readonly AnyOperation[]) {
    const fn = impls[op.name as keyof OperationImpls] as never;
    app.route(
      op.method,
      op.path,
      // Not async: a request's only waits are its body and the operation (no promise per layer).
      ({ request, params, set }) => {
        const ctx = requestContext(request);
        checkAuth(op, ctx); // before reading a body
        const input = inputOf(op, request, (params ?? {}) as Record<string, string>, maxBodyBytes);
        const run = (i: unknown) => {
          const output = runOperation(op, fn, i, ctx);
          const answer = (value: unknown) => json(set as never, value) ?? value;
          return output instanceof Promise ? output.then(answer) : answer(output);
        };
        return input instanceof Promise ? input.then(run) : run(input);
      },
      // The body is ours to read (capped, JSON only): see body.ts.
      { parse: "none", detail: { hide: true } },
    );
  }
  return app;
};
