/** This installation's identity, kept in the database so it survives restarts. */
import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { instanceMeta } from "../db/schema";

export interface InstanceInfo {
  id: string;
  firstStartedAt: string;
}

export function loadInstance(db: Db): InstanceInfo {
  return db.transaction((tx) => {
    const read = (key: string) => tx.select().from(instanceMeta).where(eq(instanceMeta.key, key)).get()?.value;
    const now = new Date().toISOString();
    let id = read("instance_id");
    let firstStartedAt = read("first_started_at");
    if (!id) {
      id = Bun.randomUUIDv7();
      tx.insert(instanceMeta).values({ key: "instance_id", value: id, updatedAt: now }).run();
    }
    if (!firstStartedAt) {
      firstStartedAt = now;
      tx.insert(instanceMeta).values({ key: "first_started_at", value: now, updatedAt: now }).run();
    }
    return { id, firstStartedAt };
  });
}
