/** The error shape is declared twice (zod for the admin API, asyncapi.yaml for events): keep them equal. */
import { expect, test } from "bun:test";
import { ErrorBody as AdminErrorBody, errorCodes } from "../contracts/errors";
import { ErrorBody as EventErrorBody } from "../generated/events";

test("asyncapi.yaml's Error schema has exactly the admin contract's codes and fields", () => {
  expect<string[]>([...EventErrorBody.shape.code.options].sort()).toEqual(Object.keys(errorCodes).sort());
  expect(Object.keys(EventErrorBody.shape).sort()).toEqual(Object.keys(AdminErrorBody.shape).sort());
  const sample = { code: "NOT_FOUND", message: "x", details: { a: 1 } };
  expect(EventErrorBody.parse(sample)).toEqual(AdminErrorBody.parse(sample));
  expect(EventErrorBody.safeParse({ code: "TEAPOT", message: "x" }).success).toBe(false);
});
