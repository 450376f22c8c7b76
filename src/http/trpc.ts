/**
 * The operations table as a tRPC router: one loop, nothing per operation. `group.action` names
 * become nested procedures (`client.jwt.create.mutate(...)`); GET operations are queries.
 */
import {
  getErrorShape,
  initTRPC,
  type TRPCBuiltRouter,
  TRPCError,
  type TRPCMutationProcedure,
  type TRPCQueryProcedure,
} from "@trpc/server";
import type { z } from "zod";
import { type OperationName, type Operations, operations } from "../../contracts/admin";
import { type ErrorBody, errorCodes } from "../../contracts/errors";
import { type AnyOperation, isQuery } from "../../contracts/operation";
import { AppError, clip } from "../domain/errors";
import type { OperationImpls } from "./operations";
import { type OperationContext, runOperation } from "./operations/run";

const t = initTRPC.context<OperationContext>().create({
  isDev: false,
  errorFormatter({ shape, error }) {
    // tRPC's message and path quote what the client sent (an unknown procedure path): clipped.
    const path = shape.data.path === undefined ? undefined : clip(shape.data.path);
    return {
      ...shape,
      message: clip(shape.message, 128),
      data: { ...shape.data, path, stack: undefined, error: errorBodyOf(error) },
    };
  },
});

/**
 * The project's error shape for whatever tRPC caught (our AppError, or tRPC's own parse, lookup
 * and method errors). tRPC's messages quote the client's path, content type or JSON: clipped.
 */
function errorBodyOf(error: TRPCError): ErrorBody {
  if (error.cause instanceof AppError) return error.cause.toBody();
  const code = (Object.keys(errorCodes) as (keyof typeof errorCodes)[]).find((c) => errorCodes[c].trpc === error.code);
  const message = clip(error.message, 128);
  if (error.code === "PARSE_ERROR") return { code: "BAD_REQUEST", message };
  return code && code !== "INTERNAL" ? { code, message } : { code: "INTERNAL", message: "Internal error" };
}

/**
 * A refusal made before tRPC runs (rate limit, body limits), as tRPC's own error envelope, so the
 * tRPC client reads it like any other error (`error.data.error` is the project's error body).
 */
export function trpcErrorEnvelope(error: AppError) {
  const cause = new TRPCError({ code: errorCodes[error.code].trpc, message: error.message, cause: error });
  const shape = getErrorShape({
    config: t._config,
    error: cause,
    type: "unknown",
    path: undefined,
    input: undefined,
    ctx: undefined,
  });
  return { error: shape };
}

type OpNamed<N> = Extract<Operations[number], { name: N }>;
type Group<N> = N extends `${infer G}.${string}` ? G : never;
type Action<N> = N extends `${string}.${infer A}` ? A : never;
/** An input with no required field may be left out: `client.users.me.query()`. */
type InputOf<O extends AnyOperation> =
  Record<never, never> extends z.input<O["input"]> ? z.input<O["input"]> | undefined : z.input<O["input"]>;
type ProcedureOf<O extends AnyOperation> = O["method"] extends "GET"
  ? TRPCQueryProcedure<{ input: InputOf<O>; output: z.output<O["output"]>; meta: object }>
  : TRPCMutationProcedure<{ input: InputOf<O>; output: z.output<O["output"]>; meta: object }>;

/** The router's record, derived from the operations table. */
export type AdminRouterRecord = {
  [G in Group<OperationName>]: {
    [N in OperationName as Group<N> extends G ? Action<N> : never]: ProcedureOf<OpNamed<N>>;
  };
};
export type AdminRouter = TRPCBuiltRouter<(typeof t)["_config"]["$types"], AdminRouterRecord>;

export function createAdminRouter(impls: OperationImpls): AdminRouter {
  const record: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const [group, action] = op.name.split(".") as [string, string];
    const fn = impls[op.name] as (input: unknown, ctx: OperationContext) => unknown;
    // Input is validated by runOperation, so REST and tRPC report bad input identically.
    const procedure = t.procedure.input((raw: unknown) => raw);
    const resolve = async ({ input, ctx }: { input: unknown; ctx: OperationContext }) => {
      try {
        return await runOperation(op as AnyOperation, fn as never, input, ctx);
      } catch (error) {
        const appError = AppError.from(error);
        if (appError.code === "INTERNAL" && !(error instanceof AppError)) {
          ctx.log.error({ err: error, operation: op.name }, "operation failed");
        }
        throw new TRPCError({ code: errorCodes[appError.code].trpc, message: appError.message, cause: appError });
      }
    };
    record[group] ??= {};
    (record[group] as Record<string, unknown>)[action] = isQuery(op)
      ? procedure.query(resolve)
      : procedure.mutation(resolve);
  }
  return t.router(record as never) as unknown as AdminRouter;
}
