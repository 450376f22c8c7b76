/**
 * PostgreSQL for tests: every test server gets a database of its own (created on the local server,
 * dropped when it closes), so parallel runs never share state. `usePostgres()` in a test file makes
 * `startTestServer` use one for the rest of that file; the PostgreSQL twins in test/postgres/ run the
 * over-the-wire suites that way.
 *
 * PostgreSQL must be reachable (CI has it): at SWITCHBOARD_TEST_PG_URL, by default
 * postgres://postgres@127.0.0.1:5432/test. An unreachable server fails the suites with a message
 * saying so; only SWITCHBOARD_SKIP_PG=1 skips them.
 */
import { afterAll, beforeAll, test } from "bun:test";
import { SQL } from "bun";

export const PG_ADMIN_URL = process.env.SWITCHBOARD_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const SKIP_PG = process.env.SWITCHBOARD_SKIP_PG === "1";

/** Which database `startTestServer` gives a server when the test does not name one. */
export const testDatabase: { dialect: "sqlite" | "postgres" } = { dialect: "sqlite" };

export interface PgDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

let reachable: Promise<void> | undefined;

/** Resolves when PostgreSQL answers; rejects with what to do otherwise. */
export function requirePostgres(): Promise<void> {
  reachable ??= (async () => {
    const admin = new SQL(PG_ADMIN_URL, { connectionTimeout: 5, max: 1 });
    try {
      await admin`select 1`;
    } catch (error) {
      throw new Error(
        `PostgreSQL is not reachable at ${PG_ADMIN_URL} (${(error as Error).message}): start it, point ` +
          "SWITCHBOARD_TEST_PG_URL at one, or set SWITCHBOARD_SKIP_PG=1 to skip the PostgreSQL suites",
      );
    } finally {
      await admin.close();
    }
  })();
  return reachable;
}

/** A new, empty database on the test server; `drop()` removes it (closing what is still connected). */
export async function createPgDatabase(): Promise<PgDatabase> {
  await requirePostgres();
  const name = `switchboard_test_${process.pid}_${Bun.randomUUIDv7().replaceAll("-", "").slice(-12)}`;
  const admin = new SQL(PG_ADMIN_URL, { max: 1 });
  try {
    await admin.unsafe(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.close();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const sql = new SQL(PG_ADMIN_URL, { max: 1 });
      try {
        await sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await sql.close();
      }
    },
  };
}

/**
 * For the rest of this file, test servers run on PostgreSQL (a database each). Call it before the
 * suite registers its hooks. With SWITCHBOARD_SKIP_PG=1 it registers one skipped test and returns false.
 */
export function usePostgres(): boolean {
  if (SKIP_PG) {
    test.skip("PostgreSQL suites (skipped: SWITCHBOARD_SKIP_PG=1)", () => {});
    return false;
  }
  beforeAll(async () => {
    await requirePostgres();
    testDatabase.dialect = "postgres";
  });
  afterAll(() => {
    testDatabase.dialect = "sqlite";
  });
  return true;
}
