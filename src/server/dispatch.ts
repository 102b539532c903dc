// What the handler hands to a dispatch path (demo, forward, translate) once a lane and its
// permit are secured.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Lane } from '../routing/lane.ts';

export interface Dispatch {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly lane: Lane;
  readonly body: Buffer;
  readonly stream: boolean;
  /** Gemini ingress framing: SSE (`alt=sse`) or a JSON array. */
  readonly sse: boolean;
  /** The caller's credential in passthrough mode; `false` when the configured key is used. */
  readonly passthroughCredential: string | undefined | false;
  readonly deadline: number;
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
}
