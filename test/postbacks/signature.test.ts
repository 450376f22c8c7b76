/**
 * The postback signature is computed with the runtime's native HMAC (`createSigner`), not with the
 * `standardwebhooks` package's JavaScript SHA-256: its bytes must stay exactly those of the reference
 * (receivers verify with it). The over-the-wire check is test/admin/postbacks.test.ts (the sink verifies).
 */
import { expect, test } from "bun:test";
import fc from "fast-check";
import { Webhook } from "standardwebhooks";
import { createSigner } from "../../src/domain/postbacks/request";

const secretOf = (bytes: Uint8Array) => `whsec_${Buffer.from(bytes).toString("base64")}`;

test("the same header value as standardwebhooks' sign, for any secret, id, time and body", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 24, maxLength: 64 }),
      fc.string({ minLength: 1, maxLength: 40 }),
      fc.date({ min: new Date(0), max: new Date(4102444800000), noInvalidDate: true }),
      fc.oneof(fc.string({ unit: "grapheme" }), fc.json(), fc.constant("")),
      (bytes, id, now, body) => {
        const secret = secretOf(bytes);
        expect(createSigner(secret).sign(id, now, body)).toBe(new Webhook(secret).sign(id, now, body));
      },
    ),
    { numRuns: 500 },
  );
});

test("a body with characters outside ASCII, and a time with milliseconds, sign the same", () => {
  const secret = secretOf(new TextEncoder().encode("switchboard-postback-test-secret-0123"));
  const now = new Date("2026-01-02T03:04:05.999Z");
  for (const body of ['{"name":"Zoë","emoji":"🚀","cjk":"漢字"}', JSON.stringify({ lone: "\ud800" }), ""]) {
    expect(createSigner(secret).sign("msg_1", now, body)).toBe(new Webhook(secret).sign("msg_1", now, body));
  }
});

test("the secret without its whsec_ prefix is the same key; an empty one is refused", () => {
  const bytes = new TextEncoder().encode("another-secret-of-enough-bytes!!");
  const now = new Date();
  expect(createSigner(Buffer.from(bytes).toString("base64")).sign("a", now, "{}")).toBe(
    createSigner(secretOf(bytes)).sign("a", now, "{}"),
  );
  expect(() => createSigner("whsec_")).toThrow();
});
