// The ceiling for any Node gateway (G-PERF-1): node:http in, one undici keep-alive pool out, the
// response streamed through untouched with backpressure (`.pipe`: `stream.pipeline` costs ~25 % more
// CPU per small response on Node 24). The request body is read whole first, as a gateway must to
// route on it (streaming it into undici measured slower with twice the RSS). No auth, no parsing.
//   UPSTREAM=http://127.0.0.1:9000 node bench/minimal-proxy.ts   (prints `{"port":N}`)

import { createServer, type IncomingHttpHeaders } from 'node:http';
import { buffer } from 'node:stream/consumers';
import { type Dispatcher, Pool } from 'undici';

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'upgrade']);
const pool = new Pool(process.env.UPSTREAM ?? 'http://127.0.0.1:9000', {
  pipelining: 1,
  keepAliveTimeout: 60_000,
});

function endToEnd(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>) {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !HOP.has(name) && name !== 'host') out[name] = value;
  }
  return out;
}

const server = createServer(async (req, res) => {
  try {
    const upstream = await pool.request({
      path: req.url ?? '/',
      method: req.method as Dispatcher.HttpMethod,
      headers: endToEnd(req.headers),
      body: await buffer(req),
    });
    res.writeHead(upstream.statusCode, endToEnd(upstream.headers));
    upstream.body.on('error', () => res.destroy());
    res.once('close', () => upstream.body.destroy());
    upstream.body.pipe(res);
  } catch {
    if (res.headersSent) res.destroy();
    else res.writeHead(502, { 'content-length': 0 }).end();
  }
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' ? address?.port : 0 })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
