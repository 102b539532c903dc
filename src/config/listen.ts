// `listen` parsing (G-CFG-15): `host:port`, `[ipv6]:port`, or a bare host (port 8080).

import { parseIPv6 } from '../net/ssrf.ts';
import type { ListenAddress } from './types.ts';

export const DEFAULT_LISTEN = '0.0.0.0:8080';
const DEFAULT_PORT = 8080;
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

/** Undefined when the text is not a socket address the listener could bind. */
export function parseListen(raw: string): ListenAddress | undefined {
  const text = raw.trim();
  let host: string;
  let port = DEFAULT_PORT;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) return undefined;
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return undefined;
      const p = parsePort(rest.slice(1));
      if (p === undefined) return undefined;
      port = p;
    }
    if (parseIPv6(host) === undefined) return undefined;
    return Object.freeze({ raw, host, port });
  }
  if (parseIPv6(text) !== undefined) return Object.freeze({ raw, host: text, port });
  const colon = text.lastIndexOf(':');
  if (colon !== -1) {
    const p = parsePort(text.slice(colon + 1));
    if (p === undefined) return undefined;
    port = p;
    host = text.slice(0, colon) || '0.0.0.0';
  } else {
    host = text;
  }
  if (!HOSTNAME.test(host)) return undefined;
  return Object.freeze({ raw, host, port });
}
