/** test/admin/friends.test.ts against PostgreSQL (a database of its own; see test/helpers/postgres.ts). */
import { usePostgres } from "../helpers/postgres";

const suite = "../admin/friends.test.ts";
if (usePostgres()) await import(`${suite}?postgres`);
