// A request on a connection of its own, closed after: under `workers: N` the kernel hands each new
// connection to a worker, so requests made this way spread over all of them.

import { Agent } from 'undici';

/** POSTs `body` as JSON (GET without one) with `secret` as Bearer; answers status and text. */
export async function onFreshConnection(
  url: string,
  secret: string,
  body?: unknown,
): Promise<{ status: number; text: string }> {
  const dispatcher = new Agent({ pipelining: 0 });
  try {
    const r = await fetch(url, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json', connection: 'close' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      dispatcher,
    } as RequestInit);
    return { status: r.status, text: await r.text() };
  } finally {
    await dispatcher.close();
  }
}
