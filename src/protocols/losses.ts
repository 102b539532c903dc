// What a cross-protocol hop cannot carry (issue 20, item 3): the fields of a client's request that
// the upstream's protocol has no place for, named from a closed set so they can label a metric.
// The table mirrors what the writers drop (docs/protocols.md, "What survives"); each entry says
// when a request holds the field and which upstream protocols lose it.

import type { ContentBlock, Request } from './ir.ts';
import type { Protocol } from './names.ts';

const ALL: readonly Protocol[] = ['openai', 'responses', 'anthropic', 'gemini', 'cohere', 'bedrock'];
const except = (...kept: Protocol[]): readonly Protocol[] => ALL.filter((p) => !kept.includes(p));

/** Unmodelled top-level fields worth their own label; any other is counted as `other_field`. */
const NAMED_EXTRAS = new Set([
  'seed',
  'n',
  'logprobs',
  'top_logprobs',
  'logit_bias',
  'presence_penalty',
  'frequency_penalty',
  'store',
  'previous_response_id',
  'service_tier',
  'prediction',
  'modalities',
  'audio',
  'web_search_options',
  'truncation',
  'include',
  'safetySettings',
  'cachedContent',
  'guardrailConfig',
  'mcp_servers',
  'container',
  'citation_options',
  'documents',
  'safety_mode',
  'priority',
]);

const thinkingOn = (req: Request): boolean => req.reasoning !== undefined && !req.reasoning.disabled;

interface Loss {
  readonly field: string;
  /** Whether the request (`all`: its messages' blocks, flattened once) holds the field for `to`. */
  readonly lost: (req: Request, to: Protocol, all: readonly ContentBlock[]) => boolean;
}

function lostTo(
  protocols: readonly Protocol[],
  holds: (req: Request, all: readonly ContentBlock[]) => boolean,
): Loss['lost'] {
  return (req, to, all) => protocols.includes(to) && holds(req, all);
}

const BEDROCK_IMAGES = /^image\/(png|jpeg|gif|webp)$/;

const LOSSES: readonly Loss[] = [
  {
    field: 'top_k',
    lost: (req, to) =>
      req.topK !== undefined &&
      (['openai', 'responses', 'bedrock'].includes(to) || (to === 'anthropic' && thinkingOn(req))),
  },
  {
    field: 'temperature',
    lost: (req, to) => to === 'anthropic' && req.temperature !== undefined && thinkingOn(req),
  },
  { field: 'user', lost: lostTo(['gemini', 'cohere', 'bedrock'], (req) => req.user !== undefined) },
  { field: 'metadata', lost: lostTo(except('responses'), (req) => req.metadata !== undefined) },
  {
    field: 'cache_control',
    lost: lostTo(
      ['openai', 'responses', 'gemini', 'cohere'],
      (req, all) =>
        req.system.some((b) => b.cacheControl !== undefined) ||
        req.tools.some((t) => t.cacheControl !== undefined) ||
        all.some((b) => 'cacheControl' in b && b.cacheControl !== undefined),
    ),
  },
  {
    field: 'parallel_tool_calls',
    lost: lostTo(
      ['gemini', 'cohere', 'bedrock'],
      (req) =>
        req.toolChoice !== undefined &&
        'disableParallel' in req.toolChoice &&
        req.toolChoice.disableParallel === true,
    ),
  },
  { field: 'tool_choice_none', lost: lostTo(['bedrock'], (req) => req.toolChoice?.type === 'none') },
  {
    field: 'json_object',
    lost: lostTo(['anthropic', 'bedrock'], (req) => req.responseFormat?.type === 'json_object'),
  },
  {
    field: 'reasoning_effort',
    lost: lostTo(
      ['bedrock'],
      (req) =>
        req.reasoning?.effort !== undefined &&
        req.reasoning.budgetTokens === undefined &&
        !req.reasoning.disabled,
    ),
  },
  {
    field: 'reasoning_history',
    lost: (_req, to, all) =>
      all.some(
        (b) =>
          b.type === 'thinking' &&
          (to === 'openai' || to === 'responses' || (to === 'anthropic' && (b.signature ?? '') === '')),
      ),
  },
  {
    field: 'reasoning_signature',
    lost: lostTo(['cohere'], (_req, all) =>
      all.some((b) => b.type === 'thinking' && (b.signature ?? '') !== ''),
    ),
  },
  {
    field: 'redacted_reasoning',
    lost: lostTo(['openai', 'responses', 'gemini', 'cohere'], (_req, all) =>
      all.some((b) => b.type === 'redacted_thinking'),
    ),
  },
  {
    field: 'citations',
    lost: lostTo(except('anthropic'), (req, all) =>
      [req.system, all].some((list) => list.some((b) => b.type === 'text' && (b.citations?.length ?? 0) > 0)),
    ),
  },
  {
    field: 'image',
    lost: lostTo(['bedrock'], (_req, all) =>
      all.some(
        (b) =>
          b.type === 'image' &&
          (b.source.kind === 'url'
            ? !b.source.url.startsWith('s3://')
            : !BEDROCK_IMAGES.test(b.source.mediaType)),
      ),
    ),
  },
  {
    field: 'document',
    lost: (_req, to, all) =>
      all.some(
        (b) =>
          b.type === 'document' &&
          ((to === 'cohere' && b.source.kind !== 'text') || (to === 'bedrock' && b.source.kind === 'url')),
      ),
  },
];

/**
 * The fields of `req` an upstream speaking `to` does not receive, each once: the unmodelled
 * top-level fields of the client's protocol (P-XLT-2), then what `to` has no place for.
 */
export function lostInTranslation(req: Request, to: Protocol): string[] {
  const out: string[] = [];
  for (const key of Object.keys(req.extra)) {
    const field = NAMED_EXTRAS.has(key) ? key : 'other_field';
    if (!out.includes(field)) out.push(field);
  }
  const all = req.messages.flatMap((m) => m.content);
  for (const loss of LOSSES) if (loss.lost(req, to, all)) out.push(loss.field);
  return out;
}

/** Every label `lostInTranslation` can return (metric label values come from this closed set). */
export const LOSS_FIELDS: readonly string[] = [...NAMED_EXTRAS, 'other_field', ...LOSSES.map((l) => l.field)];
