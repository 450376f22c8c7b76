/**
 * Group commit against a real SQLite file: writes of one turn share a transaction and each promise
 * settles after the commit; a write that throws fails alone; a failed commit fails them all and
 * stores nothing; a flood is committed in slices.
 */
import { Database } from "bun:sqlite";
import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGroupCommit } from "../../src/db/group-commit";

let dir: string;
let db: Database;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "group-commit-"));
  db = new Database(join(dir, "t.db"), { create: true, strict: true });
  db.run("PRAGMA journal_mode = WAL");
  db.run("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)");
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const rows = () => db.query("SELECT v FROM t ORDER BY id").all() as { v: string }[];

test("writes of one turn commit together; each resolves with its result, after the commit", async () => {
  const commits: number[] = [];
  db.run("CREATE TABLE log (n INTEGER)");
  const group = createGroupCommit(db);
  const insert = db.prepare("INSERT INTO t (v) VALUES (?) RETURNING id");
  const seenBySibling = new Database(join(dir, "t.db"), { readonly: true });
  const promises = ["a", "b", "c"].map((v) =>
    group.run(() => {
      // Inside the transaction, another connection sees nothing yet.
      commits.push((seenBySibling.query("SELECT count(*) AS n FROM t").get() as { n: number }).n);
      return insert.get(v) as { id: number };
    }),
  );
  const results = await Promise.all(promises);
  expect(results.map((r) => r.id)).toEqual([1, 2, 3]);
  expect(commits).toEqual([0, 0, 0]); // one transaction: nothing visible until all three committed
  expect((seenBySibling.query("SELECT count(*) AS n FROM t").get() as { n: number }).n).toBe(3);
  seenBySibling.close();
});

test("a write that throws fails alone; the others are stored", async () => {
  const group = createGroupCommit(db);
  const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
  const outcomes = await Promise.allSettled([
    group.run(() => insert.run("x")),
    group.run(() => insert.run("x")), // UNIQUE violation
    group.run(() => insert.run("y")),
  ]);
  expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  expect(String((outcomes[1] as PromiseRejectedResult).reason)).toContain("UNIQUE");
  expect(rows()).toEqual([{ v: "x" }, { v: "y" }]);
});

test("a commit that fails rejects every write of the batch and stores none of them", async () => {
  const group = createGroupCommit(db);
  const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
  // A second connection holding the write lock makes BEGIN's first write wait and then fail.
  db.run("PRAGMA busy_timeout = 0");
  const other = new Database(join(dir, "t.db"));
  other.run("BEGIN IMMEDIATE");
  const outcomes = await Promise.allSettled([group.run(() => insert.run("p")), group.run(() => insert.run("q"))]);
  other.run("ROLLBACK");
  other.close();
  expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected"]);
  expect(rows()).toEqual([]);
});

test("a flood is committed in slices of at most 1,000 writes, all of them stored in order", async () => {
  const group = createGroupCommit(db);
  const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
  const sibling = new Database(join(dir, "t.db"), { readonly: true });
  const committedBefore: number[] = [];
  const results = await Promise.all(
    Array.from({ length: 2500 }, (_, i) =>
      group.run(() => {
        committedBefore.push((sibling.query("SELECT count(*) AS n FROM t").get() as { n: number }).n);
        return insert.run(`v${i}`).lastInsertRowid;
      }),
    ),
  );
  sibling.close();
  expect(results).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
  // What another connection saw during each write: the slices before it, never a part of its own.
  expect(committedBefore).toEqual(Array.from({ length: 2500 }, (_, i) => Math.floor(i / 1000) * 1000));
  expect(rows()).toHaveLength(2500);
});
