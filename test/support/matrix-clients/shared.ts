// Shared shapes of the matrix SDK drivers: the tool, its result, and what a turn reports.

import type { Protocol } from '../../../src/protocols/names.ts';

export const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Current weather for a city.',
  schema: {
    type: 'object' as const,
    properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
    required: ['city'],
  },
};

/** What the tool "returned"; sent back on turn 2. */
export const WEATHER_RESULT = { temp_c: 21, sky: 'sunny' };

export interface ToolCallSeen {
  id: string;
  name: string;
  args: unknown;
}

export interface TurnResult {
  text: string;
  /** The native stop reason (Responses: the response `status`). */
  stop: string | undefined;
  /** [input, output] under the SDK's own usage field names. */
  usage: [number | undefined, number | undefined];
  toolCalls: ToolCallSeen[];
  /** Text deltas seen (streams only). */
  deltas: number;
  /** The response id and model as the SDK surfaced them, where the protocol has them (non-stream). */
  id?: string;
  model?: string;
}

export interface ToolConversation {
  readonly first: TurnResult;
  /** Turn 2: the assistant turn replayed and every call answered with WEATHER_RESULT. */
  answer(stream: boolean): Promise<TurnResult>;
}

/** Optional request settings every protocol can carry (P-IR-1, P-XLT-6). */
export interface AskOptions {
  system?: string;
  temperature?: number;
}

export interface MatrixClient {
  readonly protocol: Protocol;
  /** The max-tokens value this client sends, if any (P-XLT-3 checks). */
  readonly maxTokens: number | undefined;
  /** Top-level request fields only this ingress protocol has; they must not reach another protocol (P-XLT-2). */
  readonly foreignFields: readonly string[];
  ask(stream: boolean, prompt: string, opts?: AskOptions): Promise<TurnResult>;
  askWithTool(stream: boolean, prompt: string): Promise<ToolConversation>;
  close(): void;
}

export interface MatrixClientOptions {
  baseUrl: string;
  token: string;
  /** Pool or model name. */
  name: string;
  /** The fetch the SDKs use (Bedrock uses its own node:http handler, closed by `close()`). */
  fetch?: typeof fetch;
}

export function parseArgs(raw: string | undefined): unknown {
  try {
    return JSON.parse(raw ?? '');
  } catch {
    return { unparsable: raw };
  }
}

export const RESULT_TEXT = JSON.stringify(WEATHER_RESULT);
