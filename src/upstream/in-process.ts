// An upstream answered inside the process, behind the same dispatch interface as the HTTP pools:
// the exchange sees a head, body chunks with pause/resume, and an end, exactly as from the network.

import type { IncomingHttpHeaders } from 'node:http';
import type { InProcessUpstream } from '../config/types.ts';
import type { DispatchController, DispatchHandler, DispatchOptions, UpstreamDispatcher } from './dispatch.ts';

class InProcessController implements DispatchController {
  #aborted = false;
  #paused = false;
  #reason: Error | null = null;
  #wake: (() => void) | undefined;

  get aborted(): boolean {
    return this.#aborted;
  }
  get paused(): boolean {
    return this.#paused;
  }
  get reason(): Error | null {
    return this.#reason;
  }
  abort(reason: Error): void {
    this.#aborted = true;
    this.#reason = reason;
    this.#wake?.();
  }
  pause(): void {
    this.#paused = true;
  }
  resume(): void {
    this.#paused = false;
    this.#wake?.();
  }
  /** Resolves once the consumer resumes (or aborts). */
  flowing(): Promise<void> {
    if (!this.#paused || this.#aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.#wake = () => {
        this.#wake = undefined;
        resolve();
      };
    });
  }
}

export class InProcessDispatcher implements UpstreamDispatcher {
  readonly #upstream: InProcessUpstream;
  readonly #model: string;

  constructor(upstream: InProcessUpstream, model: string) {
    this.#upstream = upstream;
    this.#model = model;
  }

  dispatch(options: DispatchOptions, handler: DispatchHandler): void {
    const controller = new InProcessController();
    handler.onRequestStart(controller);
    const body = options.body instanceof Uint8Array ? options.body : new Uint8Array();
    const accept = options.headers.accept ?? '';
    const stream = accept !== '' && accept !== 'application/json';
    this.#run(controller, handler, body, stream).catch((err: unknown) => {
      if (!controller.aborted)
        handler.onResponseError(controller, err instanceof Error ? err : new Error(String(err)));
    });
  }

  async #run(
    controller: InProcessController,
    handler: DispatchHandler,
    body: Uint8Array,
    stream: boolean,
  ): Promise<void> {
    const answer = await this.#upstream.answer({ model: this.#model, stream, body });
    if (controller.aborted) return handler.onResponseError(controller, controller.reason!);
    handler.onResponseStart(controller, answer.status, answer.headers as IncomingHttpHeaders);
    for (const chunk of answer.chunks) {
      await controller.flowing();
      if (controller.aborted) return handler.onResponseError(controller, controller.reason!);
      if (chunk.length > 0) handler.onResponseData(controller, Buffer.from(chunk));
    }
    await controller.flowing();
    if (controller.aborted) return handler.onResponseError(controller, controller.reason!);
    handler.onResponseEnd(controller);
  }
}
