// The operator surface under /admin (§5): virtual keys minted, listed, read with usage, updated and
// deleted. Authenticated only by the admin token, compared in constant time over both carriers.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { crypto } from '../builtins.ts';
import type { ReloadResult } from '../config/reload.ts';
import type { AdminAnswer, Authority } from '../governance/arbiter.ts';
import { discardBody } from '../lifecycle/body.ts';
import { sendBody, sendError } from '../lifecycle/respond.ts';
import { log } from '../log.ts';
import { GATEWAY_EDGE } from '../protocols/registry.ts';
import { type Checked, drainFrom, keyChangesFrom, newKeyFrom } from './validate.ts';

/** What draining or undraining a lane came to (every worker's answer combined). */
export type DrainResult = { ok: true; lane: string; drained: boolean } | { ok: false; status: 404 | 500 };

/** Admin bodies are a few hundred bytes; this is generous and still cheap to hold. */
const MAX_ADMIN_BODY = 64 * 1024;
const BODY_TIMEOUT_MS = 10_000;
/** A body the admin API does not read is drained up to this, then the connection closes. */
const DRAIN_BYTES = 1024 * 1024;

/** Drops a body that will not be read, within bounds (nobody holds the socket by trickling it). */
function drop(req: IncomingMessage): void {
  void discardBody(req, DRAIN_BYTES, BODY_TIMEOUT_MS);
}

const JSON_TYPE = /^application\/(?:[\w.+-]*\+)?json\s*(?:;|$)/i;

function sha256(text: string): Buffer {
  return crypto.createHash('sha256').update(text).digest();
}

function bearer(value: string | string[] | undefined): string {
  if (typeof value !== 'string') return '';
  const match = /^\s*bearer\s+(.*)$/i.exec(value);
  return match?.[1]?.trim() ?? '';
}

function json(res: ServerResponse, status: number, body: unknown): void {
  sendBody(res, status, 'application/json', JSON.stringify(body));
}

function fail(res: ServerResponse, status: number, error: string, allow?: string): void {
  const body = JSON.stringify({ error });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...(allow === undefined ? {} : { allow }),
  });
  res.end(body);
}

type BodyRead = { ok: true; value: unknown } | { ok: false; status: number; error: string };

/** The JSON body under its cap and time bound. */
function readJson(req: IncomingMessage): Promise<BodyRead> {
  if (!JSON_TYPE.test(req.headers['content-type'] ?? '')) {
    drop(req);
    return Promise.resolve({ ok: false, status: 415, error: 'Content-Type must be application/json' });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (value: BodyRead): void => {
      clearTimeout(timer);
      req.off('data', onData);
      resolve(value);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > MAX_ADMIN_BODY) {
        done({ ok: false, status: 413, error: 'request body too large' });
        req.destroy();
        return;
      }
      chunks.push(chunk);
    };
    const timer = setTimeout(() => {
      done({ ok: false, status: 408, error: 'request body arrived too slowly' });
      req.destroy();
    }, BODY_TIMEOUT_MS);
    req.on('data', onData);
    req.once('error', () => done({ ok: false, status: 400, error: 'request body could not be read' }));
    req.once('end', () => {
      try {
        done({ ok: true, value: JSON.parse(Buffer.concat(chunks, size).toString('utf8')) });
      } catch {
        done({ ok: false, status: 400, error: 'request body is not valid JSON' });
      }
    });
  });
}

export class AdminApi {
  readonly #authority: Authority;
  /** SHA-256 of the admin token; undefined = the API is off (every call 401, G-ADM-3). */
  readonly #tokenDigest: Buffer | undefined;
  /** Pool and model names, to warn about keys allowed names that do not exist (yet). */
  #names: ReadonlySet<string>;
  /** POST /admin/config/reload; undefined = not offered. */
  #reload: (() => Promise<ReloadResult>) | undefined;
  /** PATCH /admin/lanes/{name}; undefined = not offered. */
  #drain: ((lane: string, drained: boolean) => Promise<DrainResult>) | undefined;

  constructor(authority: Authority, adminToken: string | undefined, names: ReadonlySet<string>) {
    this.#authority = authority;
    this.#tokenDigest = adminToken === undefined || adminToken.trim() === '' ? undefined : sha256(adminToken);
    this.#names = names;
  }

  /** The names of a reloaded config. */
  setNames(names: ReadonlySet<string>): void {
    this.#names = names;
  }

  /** Offers POST /admin/config/reload, answered by `reload`. */
  onReload(reload: () => Promise<ReloadResult>): void {
    this.#reload = reload;
  }

  /** Offers PATCH /admin/lanes/{name} `{"drained": bool}`, answered by `drain`. */
  onDrain(drain: (lane: string, drained: boolean) => Promise<DrainResult>): void {
    this.#drain = drain;
  }

  /** G-ADM-2: both carriers hashed and compared, results ORed; no short circuit, no length oracle. */
  authorized(req: IncomingMessage): boolean {
    const digest = this.#tokenDigest;
    const presented = [bearer(req.headers.authorization), String(req.headers['x-admin-token'] ?? '').trim()];
    let ok = false;
    for (const value of presented) {
      const match = crypto.timingSafeEqual(sha256(value), digest ?? sha256(''));
      ok = (match && value !== '' && digest !== undefined) || ok;
    }
    return ok;
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (!this.authorized(req)) {
      drop(req);
      return sendError(res, GATEWAY_EDGE, GATEWAY_EDGE.authFailure());
    }
    const parts = path.split('/').filter((p) => p !== '');
    const method = req.method ?? 'GET';
    if (parts.length === 3 && parts[1] === 'config' && parts[2] === 'reload' && this.#reload !== undefined) {
      drop(req);
      if (method !== 'POST') return fail(res, 405, `method ${method} not allowed`, 'POST');
      const result = await this.#reload();
      // 400 with every error when the files do not load; the old config goes on serving.
      if (!result.ok) return json(res, 400, { reloaded: false, errors: result.errors });
      return json(res, 200, {
        reloaded: result.changed,
        config: { hash: result.hash, loaded_at: result.loadedAt },
      });
    }
    if (parts.length >= 3 && parts[1] === 'lanes' && this.#drain !== undefined) {
      if (method !== 'PATCH') {
        drop(req);
        return fail(res, 405, `method ${method} not allowed`, 'PATCH');
      }
      return this.#drainLane(req, res, parts.slice(2).join('/'), this.#drain);
    }
    if (parts.length === 2 && parts[1] === 'keys') {
      if (method === 'GET') return this.#answer(res, 200, await this.#authority.list(), (keys) => ({ keys }));
      if (method === 'POST') return this.#mint(req, res);
      drop(req);
      return fail(res, 405, `method ${method} not allowed`, 'GET, POST');
    }
    if (parts[1] === 'keys' && parts.length === 3) {
      const id = parts[2]!;
      if (method === 'PATCH') return this.#update(req, res, id);
      if (method === 'DELETE') {
        return this.#answer(res, 200, await this.#authority.remove(id), (deleted) => ({ deleted }));
      }
      drop(req);
      return fail(res, 405, `method ${method} not allowed`, 'PATCH, DELETE');
    }
    if (parts[1] === 'keys' && parts.length === 4 && parts[3] === 'usage') {
      drop(req);
      if (method !== 'GET') return fail(res, 405, `method ${method} not allowed`, 'GET');
      const id = parts[2]!;
      return this.#answer(res, 200, await this.#authority.usage(id, Date.now()), (usage) => ({
        id,
        ...usage,
      }));
    }
    drop(req);
    return fail(res, 404, 'not found');
  }

  async #mint(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const input = this.#checked(res, await readJson(req), newKeyFrom);
    if (input === undefined) return;
    for (const name of input.allowed_pools) {
      if (!this.#names.has(name))
        log.warn({ name }, 'new key is allowed a name that is no configured pool or model');
    }
    return this.#answer(res, 201, await this.#authority.mint(input), (minted) => ({
      ...minted.key,
      secret: minted.secret,
      ...(minted.aws === undefined
        ? {}
        : { aws_access_key_id: minted.aws.accessKeyId, aws_secret_access_key: minted.aws.secretAccessKey }),
    }));
  }

  async #drainLane(
    req: IncomingMessage,
    res: ServerResponse,
    encoded: string,
    drain: (lane: string, drained: boolean) => Promise<DrainResult>,
  ): Promise<void> {
    const change = this.#checked(res, await readJson(req), drainFrom);
    if (change === undefined) return;
    let lane: string;
    try {
      lane = decodeURIComponent(encoded);
    } catch {
      return fail(res, 404, 'lane not found');
    }
    const result = await drain(lane, change.drained);
    if (!result.ok)
      return fail(res, result.status, result.status === 404 ? 'lane not found' : 'internal error');
    log.info(
      { lane: result.lane, drained: result.drained },
      result.drained ? 'lane drained' : 'lane undrained',
    );
    return json(res, 200, { lane: result.lane, drained: result.drained });
  }

  async #update(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const changes = this.#checked(res, await readJson(req), keyChangesFrom);
    if (changes === undefined) return;
    return this.#answer(res, 200, await this.#authority.update(id, changes), (key) => key);
  }

  /** The validated body, or undefined once the error answer is written. */
  #checked<T>(res: ServerResponse, read: BodyRead, parse: (body: unknown) => Checked<T>): T | undefined {
    if (!read.ok) {
      fail(res, read.status, read.error);
      return undefined;
    }
    const checked = parse(read.value);
    if (!checked.ok) {
      fail(res, checked.status, checked.error);
      return undefined;
    }
    return checked.value;
  }

  #answer<T>(res: ServerResponse, status: number, answer: AdminAnswer<T>, view: (value: T) => unknown): void {
    if (answer.ok) json(res, status, view(answer.value));
    // Details stay in the log (G-ADM-6).
    else fail(res, answer.status, answer.status === 404 ? 'key not found' : 'internal error');
  }
}
