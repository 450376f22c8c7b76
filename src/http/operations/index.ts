/** The implementation of every admin operation, keyed by name; the type makes a missing one an error. */
import type { OperationName, Operations } from "../../../contracts/admin";
import type { Services } from "../../services";
import { friendOperations } from "./friends";
import { jwtOperations } from "./jwt";
import type { OperationFn } from "./run";
import { socketOperations } from "./sockets";

export type OperationImpls = { [O in Operations[number] as O["name"]]: OperationFn<O> };

export function operationImpls(services: Services): OperationImpls {
  return { ...jwtOperations(services), ...socketOperations(services), ...friendOperations(services) } satisfies Record<
    OperationName,
    unknown
  >;
}
