// Keeps a tool loop with signed reasoning working for clients that cannot hand the signature back
// (issue 20): an answer's signed reasoning is remembered as it is delivered, and put back into the
// client's next turn while that turn is translated. Only hops where the client's protocol may drop
// signatures and the upstream's demands them do any of this; every other request pays one check.

import { principalScope } from '../auth/principal.ts';
import type { ContentBlock, StreamEvent } from '../protocols/ir.ts';
import {
  clientMayDropSignatures,
  ReasoningGatherer,
  type RestoredReasoning,
  type SignedBlock,
  signedTurnOf,
  signsToolTurns,
} from '../protocols/signed-reasoning.ts';
import type { Lane } from '../routing/lane.ts';
import type { RequestContext } from './context.ts';
import { type Translation, type TranslationJob, translate } from './translate-request.ts';

/**
 * The translation, and when the upstream demands signed reasoning the client's tool turns lack, the
 * translation again with what the memory holds for this caller from this upstream protocol. When
 * it holds nothing (or cannot answer) the first translation goes as it is, and the upstream's own
 * refusal reaches the client.
 */
export async function translateRestoring(ctx: RequestContext, job: TranslationJob): Promise<Translation> {
  const first = await translate(job);
  const keys = first.unsignedTurns;
  const memory = ctx.reasoningMemory;
  const scope = principalScope(ctx.principal);
  if (keys === undefined || memory === undefined || scope === undefined) return first;
  const recalled = await memory.recall(scope, keys);
  const restored: Record<string, readonly SignedBlock[]> = {};
  let any = false;
  for (const [key, turn] of Object.entries(recalled)) {
    // A signature holds only for the kind of upstream that made it.
    if (turn.upstream !== job.upstream) continue;
    restored[key] = turn.blocks;
    any = true;
  }
  if (!any) return first;
  return translate({ ...job, restoredReasoning: restored satisfies RestoredReasoning });
}

/** Where a delivered answer's signed reasoning must be remembered: this caller, this hop. */
function remembering(ctx: RequestContext, lane: Lane): string | undefined {
  if (ctx.reasoningMemory === undefined) return undefined;
  if (!signsToolTurns(lane.upstream.protocol) || !clientMayDropSignatures(ctx.ingress)) return undefined;
  return principalScope(ctx.principal);
}

/** Remembers a whole translated answer's signed reasoning, when it has some and a tool call. */
export function rememberAnswer(ctx: RequestContext, lane: Lane, content: readonly ContentBlock[]): void {
  const scope = remembering(ctx, lane);
  if (scope === undefined) return;
  const turn = signedTurnOf(content);
  if (turn !== undefined) ctx.reasoningMemory!.remember(scope, turn, lane.upstream.protocol);
}

/** Follows a translated stream's events and remembers its signed reasoning once it is delivered. */
export interface StreamRemembrance {
  add(event: StreamEvent): void;
  /** The stream was delivered whole. */
  commit(): void;
}

/** A remembrance for this hop's stream, or undefined where nothing is to be remembered. */
export function rememberStream(ctx: RequestContext, lane: Lane): StreamRemembrance | undefined {
  const scope = remembering(ctx, lane);
  if (scope === undefined) return undefined;
  const gatherer = new ReasoningGatherer();
  return {
    add: (event) => gatherer.add(event),
    commit: () => {
      const turn = gatherer.turn();
      if (turn !== undefined) ctx.reasoningMemory!.remember(scope, turn, lane.upstream.protocol);
    },
  };
}
