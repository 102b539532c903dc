// The OpenTelemetry GenAI attribute names this version emits, pinned in one table: the conventions
// are still "Development" upstream and renames happen between releases. As OpenTelemetry asks of
// instrumentations that existed before the renames, the default is the v1.36.0 baseline, and
// `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental` selects the newest names this version
// knows (the provider attribute became `gen_ai.provider.name` in v1.37.0).

import type { Operation } from '../protocols/routes.ts';

export interface GenAiNames {
  /** The semantic-conventions version these names come from (the export's schema URL). */
  readonly version: string;
  readonly provider: string;
  readonly operation: string;
  readonly requestModel: string;
  readonly responseModel: string;
  readonly inputTokens: string;
  readonly outputTokens: string;
  readonly finishReasons: string;
}

const COMMON = {
  operation: 'gen_ai.operation.name',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  finishReasons: 'gen_ai.response.finish_reasons',
} as const;

export const GEN_AI_BASELINE: GenAiNames = Object.freeze({
  version: '1.36.0',
  provider: 'gen_ai.system',
  ...COMMON,
});
export const GEN_AI_LATEST: GenAiNames = Object.freeze({
  version: '1.37.0',
  provider: 'gen_ai.provider.name',
  ...COMMON,
});

/**
 * `gen_ai.operation.name` per operation: `chat` and `embeddings` are well-known values; rerank has
 * none yet, so it carries its own name.
 */
export const GEN_AI_OPERATIONS: Readonly<Record<Operation, string>> = {
  chat: 'chat',
  embedding: 'embeddings',
  rerank: 'rerank',
};

/** The opt-in token, one of a comma-separated list (OpenTelemetry's convention). */
export const LATEST_OPT_IN = 'gen_ai_latest_experimental';

export function genAiNames(env: NodeJS.ProcessEnv = process.env): GenAiNames {
  const optIn = (env.OTEL_SEMCONV_STABILITY_OPT_IN ?? '').split(',').map((s) => s.trim());
  return optIn.includes(LATEST_OPT_IN) ? GEN_AI_LATEST : GEN_AI_BASELINE;
}
