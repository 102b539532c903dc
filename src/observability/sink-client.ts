// POSTs to an operator's sink (the OTLP collector, the request-log webhook) over the gateway's own
// undici pools: redirects are never followed (a 3xx is a failed delivery, G-OBS-33/42), and every
// delivery has a hard timeout.

import type { OriginPools } from '../upstream/origins.ts';

export class SinkClient {
  readonly #origins: OriginPools;

  constructor(origins: OriginPools) {
    this.#origins = origins;
  }

  /** The status the sink answered; throws on a transport failure or timeout. */
  async post(
    url: URL,
    body: Uint8Array | string,
    headers: Record<string, string>,
    timeoutMs: number,
  ): Promise<number> {
    const { statusCode, body: answer } = await this.#origins.get(url.origin).request({
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      headers,
      body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The answer is not used: read it away (bounded by the timeout) so the connection is reused.
    await answer.dump({ limit: 64 * 1024 }).catch(() => undefined);
    return statusCode;
  }
}
