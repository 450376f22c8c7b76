/**
 * The SSRF guard of postback targets: only http(s), no credentials in the URL, and no host that
 * resolves to a loopback, private, link-local, unique-local, CGNAT, metadata, multicast or other
 * non-public address (ipaddr.js names the ranges; only `unicast` passes). Checked at enqueue and
 * again before every attempt, since DNS may change; the attempt then connects to an address it
 * checked (`pinTo`), so a name that resolves differently a moment later (DNS rebinding) cannot send
 * it elsewhere. `allowPrivate` or a host in `allowedHosts` skips the address check (never the scheme
 * and credential checks).
 */
import { lookup } from "node:dns/promises";
import ipaddr from "ipaddr.js";

export interface TargetPolicy {
  allowPrivate: boolean;
  /** Lower-case host names exempt from the address check. */
  allowedHosts: readonly string[];
}

/** Cloud metadata endpoints, named in refusals (their ranges are refused anyway). */
const METADATA = new Set(["169.254.169.254", "fd00:ec2::254", "100.100.100.200"]);

/** `addresses`: the checked addresses of a host name, which the request must connect to (`pinTo`). */
export type TargetVerdict = { ok: true; addresses?: string[] } | { ok: false; reason: string; unresolved?: boolean };

/** The scheme and credential rules; no DNS. */
export function checkUrlShape(raw: string): TargetVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "not a valid URL" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return { ok: false, reason: "only http and https" };
  if (url.username || url.password) return { ok: false, reason: "credentials in the URL are not allowed" };
  if (!url.hostname) return { ok: false, reason: "no host" };
  return { ok: true };
}

/** Why an address is refused, or undefined when it is a public unicast address. */
export function refusedAddress(address: string): string | undefined {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(address);
  } catch {
    return `unparsable address ${address}`;
  }
  if (ip.kind() === "ipv6" && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  const normal = ip.toNormalizedString();
  if (METADATA.has(normal) || METADATA.has(ip.toString())) return `${address} is a cloud metadata address`;
  const range = ip.range();
  return range === "unicast" ? undefined : `${address} is a ${range} address`;
}

/** The verdict on addresses (those of `host`, or `host` itself when it is one). */
function judgeAddresses(host: string, addresses: string[]): TargetVerdict {
  if (addresses.length === 0) return { ok: false, reason: `${host} does not resolve`, unresolved: true };
  for (const address of addresses) {
    const why = refusedAddress(address);
    if (why) return { ok: false, reason: host === address ? why : `${host} resolves to ${why}` };
  }
  return { ok: true };
}

/**
 * What can be decided about a URL without DNS, a pure function of the URL and the policy (so it may be
 * kept per URL): a verdict (bad shape, an exempt host, an address literal), or the host name whose
 * addresses must be checked now (`resolve`), which no cache may answer for.
 */
export function checkWithoutDns(raw: string, policy: TargetPolicy): TargetVerdict | { resolve: string } {
  const shape = checkUrlShape(raw);
  if (!shape.ok) return shape;
  // `[::1]` -> `::1`; `example.com.` (the FQDN) -> `example.com`, for the exemption list.
  const host = new URL(raw).hostname
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "")
    .toLowerCase();
  if (policy.allowPrivate || policy.allowedHosts.includes(host)) return { ok: true };
  if (ipaddr.isValid(host)) return judgeAddresses(host, [host]);
  return { resolve: host };
}

/** Resolves `host` and checks every address it has now. */
export async function checkResolved(host: string): Promise<TargetVerdict> {
  let addresses: string[];
  try {
    addresses = (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch (error) {
    const code = (error as { code?: string }).code ?? "lookup failed";
    return { ok: false, reason: `${host} does not resolve (${code})`, unresolved: true };
  }
  const verdict = judgeAddresses(host, addresses);
  return verdict.ok ? { ok: true, addresses } : verdict;
}

/** A request sent to one checked address of its URL's host, for that host. */
export interface PinnedTarget {
  /** The URL with its host replaced by the address. */
  url: string;
  /** The `Host` header: the URL's own host (and port). */
  host: string;
  /** For https: the name the certificate is checked against (and sent as SNI). */
  serverName?: string;
}

/** `raw` sent to `address` while still speaking to (and, for https, verifying) its host name. */
export function pinTo(raw: string, address: string): PinnedTarget {
  const url = new URL(raw);
  const host = url.host;
  const serverName = url.hostname.replace(/\.$/, "");
  url.hostname = address.includes(":") ? `[${address}]` : address;
  return url.protocol === "https:" ? { url: url.toString(), host, serverName } : { url: url.toString(), host };
}

/**
 * Checks the URL and, unless the policy exempts it, every address its host resolves to. A host
 * that does not resolve is reported with `unresolved: true` (the caller decides what that means).
 */
export async function checkTarget(raw: string, policy: TargetPolicy): Promise<TargetVerdict> {
  const verdict = checkWithoutDns(raw, policy);
  return "resolve" in verdict ? checkResolved(verdict.resolve) : verdict;
}
