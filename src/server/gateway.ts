// Starts the gateway: builds the routing table, binds the listener (plain or TLS), prints the
// banner, and loads the request path. What the process does on signals and defects is
// server/process.ts's job, so a gateway can also run inside a test process.

import type { Server } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import { authenticatorFor } from '../auth/principal.ts';
import { embeddedDefaultBanner } from '../config/default.ts';
import type { GatewayConfig } from '../config/types.ts';
import { line, log } from '../log.ts';
import type { LaneMemory } from '../routing/table.ts';
import { RoutingTable } from '../routing/table.ts';
import { OriginPools } from '../upstream/origins.ts';
import { RequestHandler } from './handler.ts';
import { createDualListener } from './listener.ts';
import { loadRuntime, type Runtime } from './runtime.ts';
import { loadTls, TlsConfigError } from './tls.ts';

const BAD_REQUEST_BODY = JSON.stringify({
  error: {
    message: 'The request could not be parsed.',
    type: 'invalid_request_error',
    param: null,
    code: null,
  },
});

export interface RunningGateway {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
}

export interface GatewayOptions {
  /** Workers of a multi-process gateway start quietly: the primary already spoke. */
  readonly quiet?: boolean;
  /** Lane states and ledger; tests pass a manual clock's. */
  readonly memory?: LaneMemory;
}

export async function startGateway(
  config: GatewayConfig,
  opts: GatewayOptions = {},
): Promise<RunningGateway> {
  const table = new RoutingTable(config, opts.memory);
  const origins = new OriginPools();
  const authenticator = authenticatorFor(config.auth);
  let startRuntime: () => void = () => {};
  const runtime = new Promise<Runtime>((resolve, reject) => {
    startRuntime = () => loadRuntime(table, origins, authenticator).then(resolve, reject);
  });
  runtime.catch((err: unknown) =>
    line('error', `request path failed to load: ${err instanceof Error ? err.message : String(err)}`),
  );
  const handler = new RequestHandler(
    table,
    authenticator,
    runtime.then((r) => r.pipeline),
  );

  let tlsOptions: ReturnType<typeof loadTls> | undefined;
  if (config.tls !== undefined) {
    try {
      tlsOptions = loadTls(config.tls);
    } catch (err) {
      if (err instanceof TlsConfigError) throw new Error(`TLS configuration error: ${err.message}`);
      throw err;
    }
  }
  // Plain HTTP listens through a TCP front that also admits cleartext HTTP/2 (the Bedrock SDK's
  // default); TLS keeps ALPN at http/1.1 (G-TLS-2).
  const dual = tlsOptions === undefined ? createDualListener(handler.handle) : undefined;
  // node:https (and with it node:tls) is loaded only when TLS is configured.
  const server: Server =
    dual?.http1 ?? process.getBuiltinModule('node:https').createServer(tlsOptions!, handler.handle);
  const listening: NetServer = dual?.tcp ?? server;
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0;

  // A malformed request line or header (control characters, bad framing) gets a JSON 400 and
  // only that connection closes (G-SEC-21, G-TLS-6).
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    log.debug({ code: err.code }, 'client connection error');
    if (socket.writable && err.code !== 'ECONNRESET') {
      socket.end(
        `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(BAD_REQUEST_BODY)}\r\nconnection: close\r\n\r\n${BAD_REQUEST_BODY}`,
      );
    } else {
      socket.destroy();
    }
  });
  server.on('tlsClientError', (err: Error) => log.debug({ err: err.message }, 'TLS handshake failed'));

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(new Error(`cannot bind listen address '${config.listen.raw}': ${err.message}`));
    };
    listening.once('error', onError);
    listening.listen(config.listen.port, config.listen.host, () => {
      listening.off('error', onError);
      resolve();
    });
  });
  const address = listening.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.listen.port;
  const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
  const url = `${tlsOptions === undefined ? 'http' : 'https'}://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  if (!opts.quiet)
    line('info', `busbar listening on ${url}${config.tls?.clientCaFile !== undefined ? ' (mtls)' : ''}`);
  if (config.embeddedDefault && !opts.quiet)
    for (const text of embeddedDefaultBanner(config, url)) process.stderr.write(`${text}\n`);
  // The request path's heavier modules, the probers and HTTP/2 load once the bind is announced
  // (G-CFG-31), in steps that let early requests through (server/runtime.ts).
  setImmediate(() => {
    startRuntime();
    dual?.enableHttp2().catch(() => line('error', 'HTTP/2 support failed to load'));
  });

  const close = async (): Promise<void> => {
    for (const prober of (await runtime).probers) prober.stop();
    await new Promise<void>((resolve) => {
      listening.close(() => resolve());
      if (dual === undefined) server.closeIdleConnections();
      else dual.drain();
    });
    await origins.close();
  };
  return { server, url, close };
}
