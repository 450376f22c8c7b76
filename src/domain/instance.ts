/** This installation's identity, kept in the database so it survives restarts. */
import { inArray } from "drizzle-orm";
import type { Store } from "../db/client";

export interface InstanceInfo {
  id: string;
  firstStartedAt: string;
}

/**
 * Reads the installation's id and first start, storing them on the very first start. Nodes sharing a
 * database share them: INSERT … ON CONFLICT DO NOTHING lets the first writer win, then all read it.
 */
export async function loadInstance(store: Store): Promise<InstanceInfo> {
  const { db } = store;
  const { instanceMeta } = store.tables;
  const now = new Date().toISOString();
  await db
    .insert(instanceMeta)
    .values([
      { key: "instance_id", value: Bun.randomUUIDv7(), updatedAt: now },
      { key: "first_started_at", value: now, updatedAt: now },
    ])
    .onConflictDoNothing();
  const rows = await db
    .select()
    .from(instanceMeta)
    .where(inArray(instanceMeta.key, ["instance_id", "first_started_at"]));
  const read = (key: string) => rows.find((r) => r.key === key)?.value as string;
  return { id: read("instance_id"), firstStartedAt: read("first_started_at") };
}
