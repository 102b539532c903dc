// Provider activation: merge a catalog entry with its deployment block (§1.7), validate the result
// (G-VAL-7, 14–20) and build the frozen ProviderConfig with its key read once (G-CFG-21).

import {
  checkProviderUrl,
  extractHost,
  isMetadataHostBlocked,
  type MetadataPolicy,
  maskUrlUserinfo,
} from '../net/ssrf.ts';
import { isProtocol, PROTOCOLS, type Protocol } from '../protocols/names.ts';
import type { RawActivation, RawCatalogEntry, RawHealth } from './raw.ts';
import { redactSecrets } from './redact.ts';
import { ERROR_CLASSES, type ErrorClass, type HealthConfig, type ProviderConfig } from './types.ts';

/** A catalog entry with the deployment's overrides applied, before validation. */
export interface MergedProvider {
  readonly name: string;
  readonly protocol: string;
  readonly baseUrl: string;
  readonly path: string | undefined;
  readonly auth: string;
  readonly errorMap: ReadonlyMap<string, string>;
  readonly health: RawHealth | undefined;
  readonly allowMetadataHosts: readonly string[];
  readonly apiKeyEnv: string;
  readonly hasInlineApiKey: boolean;
}

/** §1.7: scalars override, `error_map` merges (deployment wins per key), `health`/allow list replace. */
export function mergeProvider(name: string, entry: RawCatalogEntry, act: RawActivation): MergedProvider {
  const errorMap = new Map(entry.errorMap ?? []);
  for (const [k, v] of act.errorMap ?? []) errorMap.set(k, v);
  return {
    name,
    protocol: act.protocol ?? entry.protocol,
    baseUrl: act.baseUrl ?? entry.baseUrl,
    path: act.path ?? entry.path,
    auth: act.auth ?? entry.auth ?? 'bearer',
    errorMap,
    health: act.health ?? entry.health,
    allowMetadataHosts: act.allowMetadataHosts ?? entry.allowMetadataHosts ?? [],
    apiKeyEnv: act.apiKeyEnv,
    hasInlineApiKey: act.hasInlineApiKey,
  };
}

export function trimTrailingSlashes(url: string): string {
  return url.replace(/\/+$/, '');
}

const ESCAPE_HATCHES =
  "if this is intended, add the host to security.allow_metadata_hosts or to the provider's " +
  'allow_metadata_hosts, or set security.allow_all_metadata: true';

/** G-VAL-7 for one host list. */
export function hostListErrors(owner: string, entries: readonly string[]): string[] {
  return entries
    .filter((e) => e.includes('/'))
    .map(
      (e) => `${owner} entry '${e}' contains '/': CIDR ranges are not supported; list exact IPs or hostnames`,
    );
}

/** G-VAL-14…20 (and G-VAL-7 for the provider's own carve-outs); `security.allow` is the global list. */
export function providerErrors(p: MergedProvider, security: MetadataPolicy): string[] {
  const errors: string[] = [];
  const who = `provider '${p.name}'`;
  errors.push(...hostListErrors(`${who} allow_metadata_hosts`, p.allowMetadataHosts));
  if (!isProtocol(p.protocol)) {
    errors.push(`${who} has unknown protocol '${p.protocol}': expected one of ${PROTOCOLS.join(', ')}`);
  }
  for (const [code, cls] of p.errorMap) {
    if (!(ERROR_CLASSES as readonly string[]).includes(cls)) {
      errors.push(
        `${who} error_map maps '${code}' to unknown class '${cls}': expected one of ${ERROR_CLASSES.join(', ')}`,
      );
    }
  }
  if (p.auth !== 'bearer' && p.auth !== 'api-key') {
    errors.push(`${who} has unknown auth '${p.auth}': expected 'bearer' or 'api-key'`);
  }
  const policy: MetadataPolicy = {
    blocked: security.blocked,
    allow: [...security.allow, ...p.allowMetadataHosts],
    allowAll: security.allowAll,
  };
  const shown = maskUrlUserinfo(p.baseUrl);
  const problem = checkProviderUrl(p.baseUrl, policy);
  if (problem?.rule === 'scheme') errors.push(`${who} base_url '${shown}' ${problem.message}`);
  if (problem?.rule === 'metadata') {
    errors.push(
      `${who} base_url '${shown}' targets cloud-metadata host '${problem.host}'; ${ESCAPE_HATCHES}`,
    );
  }
  if (p.path !== undefined) {
    if (!p.path.startsWith('/')) {
      errors.push(`${who} path '${p.path}' must start with '/' (otherwise it fuses into the base_url host)`);
    }
    // G-VAL-20: the URL actually requested is base_url + path; check the host it yields.
    if (problem === undefined) {
      const full = trimTrailingSlashes(p.baseUrl) + p.path;
      const extracted = extractHost(full);
      const host = extracted.ok ? extracted.host : undefined;
      if (host !== undefined && isMetadataHostBlocked(host, policy)) {
        errors.push(
          `${who} base_url + path '${maskUrlUserinfo(full)}' targets cloud-metadata host '${host}'; ${ESCAPE_HATCHES}`,
        );
      }
    }
  }
  return errors;
}

function buildHealth(raw: RawHealth | undefined): HealthConfig {
  return Object.freeze({
    mode: raw?.mode ?? 'none',
    intervalSecs: Math.max(1, raw?.intervalSecs ?? 30),
    timeoutSecs: Math.max(1, raw?.timeoutSecs ?? 5),
  });
}

/** Builds the frozen provider; call only after providerErrors returned nothing. */
export function buildProvider(p: MergedProvider, apiKey: string): ProviderConfig {
  const provider: ProviderConfig = {
    name: p.name,
    protocol: p.protocol as Protocol,
    baseUrl: trimTrailingSlashes(p.baseUrl),
    path: p.path,
    auth: p.auth as 'bearer' | 'api-key',
    // Null prototype: a provider code such as `constructor` must not hit Object.prototype.
    errorMap: Object.freeze(
      Object.assign(Object.create(null) as Record<string, ErrorClass>, Object.fromEntries(p.errorMap)),
    ),
    health: buildHealth(p.health),
    allowMetadataHosts: Object.freeze([...p.allowMetadataHosts]),
    apiKeyEnv: p.apiKeyEnv,
    apiKey,
  };
  return Object.freeze(redactSecrets(provider, ['apiKey']));
}
