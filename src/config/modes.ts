// What each model serves (issue 14): `mode: chat | embedding | rerank`. A model's provider must
// speak a protocol with that endpoint, and a pool (with its fallback pool) serves one mode only.

import type { Protocol } from '../protocols/names.ts';
import { EMBED_CODECS, RERANK_CODECS } from '../protocols/operation-codecs.ts';
import type { Operation } from '../protocols/routes.ts';
import { parseOnExhausted } from './pools.ts';
import type { MergedProvider } from './providers.ts';
import type { RawModel, RawPool } from './raw.ts';

/** The model's operation (chat when `mode` is absent or not one of them, which the parser reports). */
export function modeOf(model: RawModel): Operation {
  return model.mode === 'embedding' || model.mode === 'rerank' ? model.mode : 'chat';
}

function protocolError(
  name: string,
  upstreamModel: string,
  mode: Operation,
  provider: MergedProvider,
): string | undefined {
  const protocol = provider.protocol as Protocol;
  if (mode === 'chat') return undefined;
  const codec = mode === 'embedding' ? EMBED_CODECS[protocol] : RERANK_CODECS[protocol];
  const who = `model '${name}' (mode: ${mode})`;
  if (codec === undefined) {
    const speaking = Object.keys(mode === 'embedding' ? EMBED_CODECS : RERANK_CODECS).join(', ');
    return `${who} is on provider '${provider.name}', whose protocol '${protocol}' has no ${mode} endpoint; ${mode} models need a provider speaking ${speaking}`;
  }
  if (provider.path !== undefined)
    return `${who} is on provider '${provider.name}', which overrides the chat path (path: ${provider.path}); the ${mode} path of such a provider is not known — use a provider entry without path`;
  const refused = mode === 'embedding' ? EMBED_CODECS[protocol]?.checkModel?.(upstreamModel) : undefined;
  return refused === undefined ? undefined : `${who} ${refused}`;
}

export function modeErrors(
  models: ReadonlyMap<string, RawModel>,
  providers: ReadonlyMap<string, MergedProvider>,
  pools: ReadonlyMap<string, RawPool>,
): string[] {
  const errors: string[] = [];
  for (const [name, m] of models) {
    const provider = providers.get(m.provider);
    const error =
      provider === undefined ? undefined : protocolError(name, m.upstreamModel ?? name, modeOf(m), provider);
    if (error !== undefined) errors.push(error);
  }
  const poolMode = new Map<string, Operation>();
  for (const [name, pool] of pools) {
    const byMode = new Map<Operation, string[]>();
    for (const member of pool.members) {
      const model = models.get(member.target);
      if (model === undefined) continue;
      const mode = modeOf(model);
      byMode.set(mode, [...(byMode.get(mode) ?? []), member.target]);
    }
    if (byMode.size > 1) {
      const mixed = [...byMode].map(([mode, names]) => `${mode}: ${names.join(', ')}`).join('; ');
      errors.push(
        `pool '${name}' mixes models of different modes (${mixed}); a pool serves one kind of request`,
      );
    }
    const only = [...byMode.keys()][0];
    if (byMode.size === 1 && only !== undefined) poolMode.set(name, only);
  }
  for (const [name, pool] of pools) {
    const parsed = parseOnExhausted(pool.onExhaustedAction);
    if (!parsed.ok || parsed.value.action !== 'fallback_pool') continue;
    const fallback = parsed.value.pool;
    const mine = poolMode.get(name);
    const theirs = poolMode.get(fallback);
    if (mine !== undefined && theirs !== undefined && mine !== theirs)
      errors.push(
        `pool '${name}' (${mine}) falls back to pool '${fallback}' (${theirs}); a fallback pool must serve the same mode`,
      );
  }
  return errors;
}
