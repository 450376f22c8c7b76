/**
 * One delivery attempt over HTTP: the SSRF guard again (the address is pinned to one just checked),
 * the signed request, the time limit, and how the answer is judged (success, retry when, or give up).
 */
import { clip } from "../errors";
import { buildRequest, createSigner, retryAfterMs } from "./request";
import { checkResolved, checkWithoutDns, pinTo, type TargetPolicy, type TargetVerdict } from "./ssrf";
import type { ClaimedJob } from "./statements";

export type AttemptOutcome = "success" | "http_error" | "network_error" | "timeout" | "refused";

/** The most of a response body read (and dropped) before the stream is cancelled. */
const MAX_DISCARDED_BODY_BYTES = 1024 * 1024;

/**
 * Reads the response body without keeping it, so the connection can be reused, and cancels it past
 * MAX_DISCARDED_BODY_BYTES: a receiver cannot make us hold (or wait for) an endless answer.
 */
async function discardBody(res: Response): Promise<void> {
  // A declared length within the limit: read natively in one piece (no stream reader per response).
  const length = Number(res.headers.get("content-length") ?? Number.NaN);
  if (length >= 0 && length <= MAX_DISCARDED_BODY_BYTES) {
    try {
      await res.arrayBuffer();
    } catch {
      // As below: a broken body changes nothing.
    }
    return;
  }
  const reader = res.body?.getReader();
  if (!reader) return;
  let seen = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value.byteLength;
      if (seen > MAX_DISCARDED_BODY_BYTES) return void (await reader.cancel());
    }
  } catch {
    // The attempt's outcome is the status; a broken body after it changes nothing.
  }
}

/** Text kept from an error in the job (the message is ours or the runtime's, never the response body). */
const MAX_ERROR = 300;

/** A Retry-After is honoured up to this; beyond it the job waits this long. */
const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

export interface AttemptResult {
  outcome: AttemptOutcome;
  status?: number;
  error?: string;
  /** Set: retry after this long (429/503 Retry-After); undefined: the usual backoff. */
  retryAfter?: number;
  /** No retry whatever the count (410, a refused target). */
  final?: boolean;
}

export interface SenderOptions {
  /** The Standard Webhooks secret; without one every attempt is refused. */
  signingSecret: string | undefined;
  policy: TargetPolicy;
  /** The time limit of one attempt (the job's own, at most the setting). */
  timeoutOf(job: ClaimedJob): number;
  http: typeof fetch;
}

export function createSender({ signingSecret, policy, timeoutOf, http }: SenderOptions) {
  const signer = signingSecret ? createSigner(signingSecret) : undefined;

  /**
   * The part of the SSRF check that needs no DNS (URL shape, exempt hosts, address literals) is a pure
   * function of the URL: kept per URL (bounded). A host name is resolved and checked on every attempt.
   */
  const staticVerdicts = new Map<string, TargetVerdict | { resolve: string }>();
  const MAX_STATIC_VERDICTS = 1024;
  function checkBeforeAttempt(url: string): TargetVerdict | Promise<TargetVerdict> {
    let verdict = staticVerdicts.get(url);
    if (!verdict) {
      verdict = checkWithoutDns(url, policy);
      if (staticVerdicts.size >= MAX_STATIC_VERDICTS) staticVerdicts.clear();
      staticVerdicts.set(url, verdict);
    }
    return "resolve" in verdict ? checkResolved(verdict.resolve) : verdict;
  }

  async function send(job: ClaimedJob, abort: AbortController): Promise<AttemptResult> {
    const target = await checkBeforeAttempt(job.postbackUrl);
    if (!target.ok) {
      // A name that does not resolve (now) is a network error, retried; a refused address is final.
      return target.unresolved
        ? { outcome: "network_error", error: target.reason }
        : { outcome: "refused", error: `Refused target: ${target.reason}`, final: true };
    }
    if (!signer) return { outcome: "refused", error: "No signing secret configured", final: true };
    const timeoutMs = timeoutOf(job);
    const request = buildRequest(signer, job, new Date());
    const { init } = request;
    let url = request.url;
    let tls: { serverName: string } | undefined;
    if (target.addresses?.length) {
      // To an address just checked, not to whatever the name resolves to when fetch looks it up
      // (the next attempt tries the next address).
      const pinned = pinTo(url, target.addresses[job.retries % target.addresses.length] as string);
      url = pinned.url;
      init.headers.set("host", pinned.host);
      if (pinned.serverName) tls = { serverName: pinned.serverName };
    }
    // The attempt's own controller serves both a forced stop and the time limit (one timer, no
    // AbortSignal.timeout + AbortSignal.any per request).
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort(new DOMException(`Timed out after ${timeoutMs} ms`, "TimeoutError"));
    }, timeoutMs);
    try {
      const res = await http(url, { ...init, redirect: "manual", signal: abort.signal, ...(tls && { tls }) });
      await discardBody(res);
      if (res.status >= 200 && res.status < 300) return { outcome: "success", status: res.status };
      const error =
        res.status >= 300 && res.status < 400
          ? `HTTP ${res.status} (redirects are not followed)`
          : `HTTP ${res.status}`;
      if (res.status === 410)
        return { outcome: "http_error", status: res.status, error: `${error}: gone`, final: true };
      const retryAfter =
        res.status === 429 || res.status === 503 ? retryAfterMs(res.headers.get("retry-after")) : undefined;
      return retryAfter === undefined
        ? { outcome: "http_error", status: res.status, error }
        : { outcome: "http_error", status: res.status, error, retryAfter: Math.min(retryAfter, MAX_RETRY_AFTER_MS) };
    } catch (e) {
      if (timedOut) return { outcome: "timeout", error: `Timed out after ${timeoutMs} ms` };
      const err = e as { code?: string; message?: string };
      return {
        outcome: "network_error",
        error: clip(`${err.code ? `${err.code}: ` : ""}${err.message ?? String(e)}`, MAX_ERROR),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  return send;
}
