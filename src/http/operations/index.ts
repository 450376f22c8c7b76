/** The implementation of every admin operation, keyed by name; the type makes a missing one an error. */
import type { OperationName, Operations } from "../../../contracts/admin";
import type { Services } from "../../services";
import { dispatchOperations } from "./dispatch";
import { friendOperations } from "./friends";
import { jwtOperations } from "./jwt";
import { postbackOperations } from "./postbacks";
import type { OperationFn } from "./run";
import { socketOperations } from "./sockets";
import { subscriberOperations } from "./subscribers";
import { userOperations } from "./users";

export type OperationImpls = { [O in Operations[number] as O["name"]]: OperationFn<O> };

export function operationImpls(services: Services): OperationImpls {
  return {
    ...jwtOperations(services),
    ...socketOperations(services),
    ...friendOperations(services),
    ...subscriberOperations(services),
    ...dispatchOperations(services),
    ...userOperations(services),
    ...postbackOperations(services),
  } satisfies Record<OperationName, unknown>;
}
