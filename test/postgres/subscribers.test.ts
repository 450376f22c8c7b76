/** test/admin/subscribers.test.ts against PostgreSQL (a database of its own; see test/helpers/postgres.ts). */
import { usePostgres } from "../helpers/postgres";

const suite = "../admin/subscribers.test.ts";
if (usePostgres()) await import(`${suite}?postgres`);
