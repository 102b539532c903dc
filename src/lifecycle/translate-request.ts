// Translating a client's request body into another protocol's upstream body: read into the IR,
// write for the upstream, serialise. Small bodies translate inline; large ones on a worker thread
// (translation-worker.ts), so parsing and writing tens of MiB never stalls the event loop that
// answers every other request (issue 10, item 4b).

import { Worker } from 'node:worker_threads';
import { CODECS } from '../protocols/codecs.ts';
import type { EmbedReply } from '../protocols/embed.ts';
import { InvalidRequest } from '../protocols/expect.ts';
import type { JsonObject } from '../protocols/ir.ts';
import { lostInTranslation } from '../protocols/losses.ts';
import type { Protocol } from '../protocols/names.ts';
import { EMBED_CODECS } from '../protocols/operation-codecs.ts';
import type { Operation } from '../protocols/routes.ts';
import {
  type RestoredReasoning,
  turnsToRestore,
  withRestoredReasoning,
} from '../protocols/signed-reasoning.ts';
import { emulatedStops } from '../protocols/stop-emulation.ts';

/** Bodies above this translate off the event loop (a 1 MiB body translates in a few ms inline). */
export const OFF_THREAD_BYTES = 1024 * 1024;

export interface TranslationJob {
  readonly ingress: Protocol;
  readonly upstream: Protocol;
  readonly body: Uint8Array;
  /** The name the client asked for; the IR's model until the upstream's is written. */
  readonly name: string;
  readonly stream: boolean;
  readonly model: string;
  readonly defaultMaxTokens: number;
  readonly operation: Operation;
  /** Signed reasoning the gateway remembered for this caller, put back into its tool turns. */
  readonly restoredReasoning?: RestoredReasoning;
}

export interface Translation {
  readonly body: Buffer;
  /** The client's stream usage opt-in (OpenAI `include_usage`), for the stream writer. */
  readonly includeUsage: boolean | undefined;
  /** How an embeddings answer is written for the client. */
  readonly embedReply?: EmbedReply;
  /** Stop sequences the upstream's protocol cannot carry: the gateway enforces them on the answer. */
  readonly emulatedStop?: readonly string[];
  /** Fields of the client's request the upstream's protocol has no place for (issue 20). */
  readonly lost?: readonly string[];
  /**
   * Keys of tool turns the upstream will refuse without signed reasoning the client did not send
   * back (signed-reasoning.ts); set only when nothing was restored yet.
   */
  readonly unsignedTurns?: readonly string[];
}

/** The whole translation, synchronously (throws InvalidRequest on a body its protocol would refuse). */
export function translateNow(job: TranslationJob): Translation {
  const parsed = JSON.parse(Buffer.from(job.body).toString()) as JsonObject;
  if (job.operation === 'embedding') return translateEmbedding(job, parsed);
  const read = CODECS[job.ingress].readRequest(parsed, {
    model: job.name,
    stream: job.stream,
  });
  const ir = job.restoredReasoning === undefined ? read : withRestoredReasoning(read, job.restoredReasoning);
  const upstream = CODECS[job.upstream];
  const written = upstream.writeRequest(ir, {
    model: job.model,
    defaultMaxTokens: job.defaultMaxTokens,
  });
  const body = Buffer.from(JSON.stringify(written));
  const lost = lostInTranslation(ir, job.upstream);
  const unsignedTurns =
    job.restoredReasoning === undefined ? turnsToRestore(job.ingress, job.upstream, ir, written) : [];
  return {
    body,
    includeUsage: ir.includeUsage,
    ...(upstream.carriesStop || ir.stop.length === 0 ? {} : { emulatedStop: emulatedStops(ir.stop) }),
    ...(lost.length === 0 ? {} : { lost }),
    ...(unsignedTurns.length === 0 ? {} : { unsignedTurns }),
  };
}

/** Embeddings: read with the ingress's embedding codec, written with the upstream's. */
function translateEmbedding(job: TranslationJob, parsed: JsonObject): Translation {
  const ingress = EMBED_CODECS[job.ingress];
  const upstream = EMBED_CODECS[job.upstream];
  // Config validation keeps embedding models on protocols with an embeddings endpoint.
  if (ingress === undefined || upstream === undefined) throw new Error('no embeddings codec');
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new InvalidRequest('the request body must be a JSON object');
  const ir = ingress.readRequest(parsed);
  const written = upstream.writeRequest(ir, job.model);
  return { body: Buffer.from(JSON.stringify(written)), includeUsage: undefined, embedReply: ir.reply };
}

/** What the worker thread does: a translation, or reading a policy's body facts (projection.ts). */
export type WorkerJob =
  | ({ readonly kind: 'translate' } & TranslationJob)
  | { readonly kind: 'facts'; readonly body: Uint8Array; readonly withPrompt: boolean };

type Reply =
  | {
      id: number;
      body: Uint8Array;
      includeUsage: boolean | undefined;
      embedReply?: EmbedReply;
      emulatedStop?: readonly string[];
      lost?: readonly string[];
      unsignedTurns?: readonly string[];
    }
  | { id: number; facts: unknown }
  | { id: number; error: string; invalid: boolean };

let worker: Worker | undefined;
let nextId = 0;
const pending = new Map<number, { resolve: (value: unknown) => void; reject: (e: Error) => void }>();

function translationWorker(): Worker {
  if (worker !== undefined) return worker;
  const started = new Worker(new URL('./translation-worker.ts', import.meta.url));
  started.on('message', (reply: Reply) => {
    const waiter = pending.get(reply.id);
    pending.delete(reply.id);
    if (waiter === undefined) return;
    if ('error' in reply)
      waiter.reject(reply.invalid ? new InvalidRequest(reply.error) : new Error(reply.error));
    else if ('facts' in reply) waiter.resolve(reply.facts);
    else
      waiter.resolve({
        body: Buffer.from(reply.body),
        includeUsage: reply.includeUsage,
        ...(reply.embedReply === undefined ? {} : { embedReply: reply.embedReply }),
        ...(reply.emulatedStop === undefined ? {} : { emulatedStop: reply.emulatedStop }),
        ...(reply.lost === undefined ? {} : { lost: reply.lost }),
        ...(reply.unsignedTurns === undefined ? {} : { unsignedTurns: reply.unsignedTurns }),
      });
  });
  const fail = (err: Error): void => {
    worker = undefined;
    for (const waiter of pending.values()) waiter.reject(err);
    pending.clear();
  };
  started.on('error', fail);
  started.on('exit', () => fail(new Error('the translation worker exited')));
  // After the listeners: adding a 'message' listener refs the worker again.
  started.unref();
  worker = started;
  return started;
}

/**
 * Runs `job` on the worker thread. The body goes over in shared memory: one memcpy here, where
 * posting the bytes themselves (a structured clone) blocked the event loop ~100 ms for 27 MiB. The
 * client's own buffer stays untouched for the next hop.
 */
export function offThread<T>(job: WorkerJob): Promise<T> {
  const id = nextId++;
  const shared = new Uint8Array(new SharedArrayBuffer(job.body.length));
  shared.set(job.body);
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
    translationWorker().postMessage({ id, job: { ...job, body: shared } });
  });
}

/** The translation, off the event loop when the body is large. Rejects on an unreadable body. */
export function translate(job: TranslationJob): Promise<Translation> {
  if (job.body.length <= OFF_THREAD_BYTES) {
    try {
      return Promise.resolve(translateNow(job));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
  return offThread<Translation>({ kind: 'translate', ...job });
}
