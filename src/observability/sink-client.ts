// POSTs to an operator's sink (the OTLP collector, the request-log webhook) over the gateway's own
// upstream pools and exchange handler: redirects are never followed (a 3xx is a failed delivery,
// G-OBS-33/42), and each delivery, answer included, ends within its timeout.

import { UpstreamExchange } from '../upstream/exchange.ts';
import type { OriginPools } from '../upstream/origins.ts';

export class SinkClient {
  readonly #origins: OriginPools;
  readonly #inFlight = new Set<UpstreamExchange>();

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
    const exchange = new UpstreamExchange();
    exchange.expireAfter(timeoutMs);
    this.#inFlight.add(exchange);
    this.#origins.get(url.origin).dispatch(
      {
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers,
        body,
      },
      exchange,
    );
    try {
      if (!(await exchange.head)) throw new Error(exchange.timedOut ? 'timed out' : 'connection failed');
    } finally {
      this.#inFlight.delete(exchange);
    }
    // The answer is not used: read away (within the same timeout) so the connection is reused.
    exchange.discard();
    return exchange.statusCode;
  }

  /** Gives up on deliveries still waiting for an answer (shutdown, once the flush bound passed). */
  abortAll(): void {
    for (const exchange of this.#inFlight) exchange.abort();
  }
}
