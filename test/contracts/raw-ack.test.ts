/**
 * `x-ack: raw` on a receive operation (the /internal namespace's `send_message`, seed 002's protocol):
 * the model reads it, the renderer types the ack as the reply itself and lists the event in the
 * namespace's `rawAckEvents`; a value the template does not know, or `raw` without a reply, fails.
 * `x-replay: false` on a send operation (`pong`) lists the event in the namespace's `unreplayedEvents`.
 */
import { describe, expect, test } from "bun:test";
import { join, resolve } from "node:path";
import { buildEventsModel } from "../../contracts/asyncapi-template/lib/events-model.js";
import { renderEvents } from "../../contracts/asyncapi-template/lib/render-events.js";
import { internalRawAckEvents, namespaces, rawAckEvents } from "../../generated/events";
import { parseAsyncApi } from "../../scripts/lib/pipeline";

const ROOT = resolve(import.meta.dir, "../..");

interface Doc {
  operations: Record<string, Record<string, unknown>>;
}

async function repositoryContract(): Promise<Doc> {
  return Bun.YAML.parse(await Bun.file(join(ROOT, "asyncapi.yaml")).text()) as Doc;
}

async function model(doc: Doc) {
  const parsed = await parseAsyncApi(JSON.stringify(doc), "test.yaml");
  expect(parsed.errors).toEqual([]);
  return buildEventsModel(parsed.document);
}

describe("x-ack: raw", () => {
  test("the repository's /internal send_message: raw in the model, the types and the namespace map", async () => {
    const m = await model(await repositoryContract());
    const internal = m.namespaces.find((n) => n.path === "/internal");
    expect(internal?.client.map((e) => [e.name, e.ack])).toEqual([["send_message", "raw"]]);
    const main = m.namespaces.find((n) => n.path === "/");
    expect(main?.client.every((e) => e.ack === "envelope")).toBe(true);

    const source = renderEvents(m);
    expect(source).toContain("ack: (response: RawAck<InternalSendResult>) => void");
    expect(source).toContain("export type RawAck<T> = T | { success: false; error: ErrorBody };");
    expect(internalRawAckEvents).toEqual(["send_message"]);
    expect(rawAckEvents).toEqual([]);
    expect(Object.keys(namespaces).sort()).toEqual(["/", "/internal"]);
    expect(Object.keys(namespaces["/internal"].clientEventSchemas)).toEqual(["send_message"]);
    expect(namespaces["/internal"].rawAckEvents).toBe(internalRawAckEvents);
  });

  test("an unknown style, or raw without a reply, fails clearly", async () => {
    const unknown = await repositoryContract();
    (unknown.operations.internalReceiveSendMessage as Record<string, unknown>)["x-ack"] = "bare";
    await expect(model(unknown)).rejects.toThrow(
      /operations.internalReceiveSendMessage: x-ack must be one of envelope, raw/,
    );

    const noReply = await repositoryContract();
    const op = noReply.operations.internalReceiveSendMessage as Record<string, unknown>;
    delete op.reply;
    await expect(model(noReply)).rejects.toThrow(/x-ack: raw needs a reply/);
  });
});

describe("x-replay: false", () => {
  test("the repository's pong is kept out of recovery; every other event is replayed", async () => {
    const m = await model(await repositoryContract());
    const main = m.namespaces.find((n) => n.path === "/");
    expect(main?.server.filter((e) => !e.replay).map((e) => e.name)).toEqual(["pong"]);
    expect(namespaces["/"].unreplayedEvents).toEqual(["pong"]);
    expect(namespaces["/internal"].unreplayedEvents).toEqual([]);
  });

  test("a value that is not a boolean, or one on a receive operation, fails clearly", async () => {
    const notBool = await repositoryContract();
    (notBool.operations.sendPong as Record<string, unknown>)["x-replay"] = "no";
    await expect(model(notBool)).rejects.toThrow(/operations.sendPong: x-replay must be true or false/);

    const onReceive = await repositoryContract();
    (onReceive.operations.receivePing as Record<string, unknown>)["x-replay"] = false;
    await expect(model(onReceive)).rejects.toThrow(/x-replay applies to server -> client \(send\) operations only/);
  });
});
