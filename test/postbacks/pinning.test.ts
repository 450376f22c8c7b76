/**
 * An attempt connects to an address the SSRF guard just checked, not to whatever the host name
 * resolves to when fetch looks it up (DNS rebinding): `pinTo` rewrites the URL to the address and
 * keeps the name for the Host header and, over https, for SNI and the certificate check. The https
 * part runs against a local server whose certificate (test/fixtures, valid until 2126) names only
 * `pin.test`.
 */
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { checkResolved, pinTo } from "../../src/domain/postbacks/ssrf";

const fixtures = join(import.meta.dir, "../fixtures");
const cert = await Bun.file(join(fixtures, "pin-test.cert.pem")).text();
const key = await Bun.file(join(fixtures, "pin-test.key.pem")).text();
const seen: { host: string | null; path: string }[] = [];
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  tls: { cert, key },
  fetch(request) {
    const url = new URL(request.url);
    seen.push({ host: request.headers.get("host"), path: url.pathname + url.search });
    return new Response("ok");
  },
});
afterAll(() => server.stop(true));

test.each([
  [
    "http, a port",
    "http://hooks.example.com:8080/in?a=1",
    "93.184.216.34",
    "http://93.184.216.34:8080/in?a=1",
    "hooks.example.com:8080",
    undefined,
  ],
  [
    "https, the default port",
    "https://hooks.example.com/in",
    "93.184.216.34",
    "https://93.184.216.34/in",
    "hooks.example.com",
    "hooks.example.com",
  ],
  [
    "https to IPv6",
    "https://hooks.example.com:8443/x",
    "2606:2800:220:1::1",
    "https://[2606:2800:220:1::1]:8443/x",
    "hooks.example.com:8443",
    "hooks.example.com",
  ],
  [
    "a fully qualified name (trailing dot)",
    "https://hooks.example.com./x",
    "93.184.216.34",
    "https://93.184.216.34/x",
    "hooks.example.com.",
    "hooks.example.com",
  ],
])("pinTo: %s", (_, raw, address, url, host, serverName) => {
  expect(pinTo(raw, address)).toEqual(serverName ? { url, host, serverName } : { url, host });
});

test("a checked name's verdict carries the addresses checked (the ones an attempt may connect to)", async () => {
  // lookup() answers an address literal itself: no DNS needed for the shape of the verdict.
  expect(await checkResolved("93.184.216.34")).toEqual({ ok: true, addresses: ["93.184.216.34"] });
  expect(await checkResolved("127.0.0.1")).toMatchObject({ ok: false, reason: expect.stringContaining("loopback") });
});

test("over https the pinned request reaches the address, for the host, with the certificate checked against the name", async () => {
  const target = pinTo(`https://pin.test:${server.port}/hook?x=1`, "127.0.0.1");
  const res = await fetch(target.url, {
    headers: { host: target.host },
    tls: { serverName: target.serverName, ca: cert },
  });
  expect([res.status, await res.text()]).toEqual([200, "ok"]);
  expect(seen.at(-1)).toEqual({ host: `pin.test:${server.port}`, path: "/hook?x=1" });

  // The same address for another name: the certificate does not name it, so nothing is sent.
  const other = pinTo(`https://other.test:${server.port}/hook`, "127.0.0.1");
  const count = seen.length;
  const failed = await fetch(other.url, {
    headers: { host: other.host },
    tls: { serverName: other.serverName, ca: cert },
  }).catch((error: { code?: string }) => error);
  expect(failed).toMatchObject({ code: "ERR_TLS_CERT_ALTNAME_INVALID" });
  expect(seen.length).toBe(count);
});
