// The standard e2e deployment: one mock-backed provider per protocol, one model each, one renamed pool each.

import type { Protocol } from '../../src/protocols/names.ts';

export const CLIENT_TOKEN = 'test-token';

export interface LaneFixture {
  protocol: Protocol;
  provider: string;
  /** The model (lane) name, which is also the upstream model id. */
  model: string;
  /** A pool with a different name whose only member is `model`. */
  pool: string;
  keyEnv: string;
  /** The upstream credential the gateway must send (never the client token). */
  key: string;
}

export const LANES: Record<Protocol, LaneFixture> = {
  openai: {
    protocol: 'openai',
    provider: 'mock-openai',
    model: 'gpt-4o-mini',
    pool: 'chat-pool',
    keyEnv: 'BUSBAR_TEST_OPENAI_KEY',
    key: 'sk-upstream-openai-0001',
  },
  responses: {
    protocol: 'responses',
    provider: 'mock-responses',
    model: 'gpt-4.1',
    pool: 'responses-pool',
    keyEnv: 'BUSBAR_TEST_RESPONSES_KEY',
    key: 'sk-upstream-responses-0002',
  },
  anthropic: {
    protocol: 'anthropic',
    provider: 'mock-anthropic',
    model: 'claude-sonnet-4-5',
    pool: 'messages-pool',
    keyEnv: 'BUSBAR_TEST_ANTHROPIC_KEY',
    key: 'sk-ant-api03-upstream-0003',
  },
  gemini: {
    protocol: 'gemini',
    provider: 'mock-gemini',
    model: 'gemini-2.5-flash',
    pool: 'gemini-pool',
    keyEnv: 'BUSBAR_TEST_GEMINI_KEY',
    key: 'AIza-upstream-gemini-0004',
  },
  cohere: {
    protocol: 'cohere',
    provider: 'mock-cohere',
    model: 'command-a-03-2025',
    pool: 'cohere-pool',
    keyEnv: 'BUSBAR_TEST_COHERE_KEY',
    key: 'co-upstream-cohere-0005',
  },
  bedrock: {
    protocol: 'bedrock',
    provider: 'mock-bedrock',
    model: 'anthropic.claude-3-haiku',
    pool: 'converse-pool',
    keyEnv: 'BUSBAR_TEST_BEDROCK_KEY',
    key: 'AKIDEXAMPLE:SECRETEXAMPLE',
  },
};

export const LANE_LIST: LaneFixture[] = Object.values(LANES);

/**
 * Catalog: every provider points at the mock (plain http on loopback is allowed, G-SEC-31). Pass one URL per
 * protocol to give each provider its own mock (tests that run lanes concurrently and queue per-mock faults).
 */
export function sixProvidersCatalog(mockUrl: string | Readonly<Record<Protocol, string>>): string {
  const urlOf = (p: Protocol): string => (typeof mockUrl === 'string' ? mockUrl : mockUrl[p]);
  return LANE_LIST.map(
    (l) => `${l.provider}:\n  protocol: ${l.protocol}\n  base_url: ${urlOf(l.protocol)}\n`,
  ).join('');
}

/** `modelFields` adds YAML lines (e.g. `default_max_tokens: 2048`) under one protocol's model. */
export function sixProvidersConfig(extra = '', modelFields: Partial<Record<Protocol, string>> = {}): string {
  const providers = LANE_LIST.map((l) => `  ${l.provider}:\n    api_key_env: ${l.keyEnv}\n`).join('');
  const models = LANE_LIST.map((l) => {
    const more = modelFields[l.protocol] === undefined ? '' : `    ${modelFields[l.protocol]}\n`;
    return `  ${l.model}:\n    provider: ${l.provider}\n    max_concurrent: 4\n${more}`;
  }).join('');
  const pools = LANE_LIST.map((l) => `  ${l.pool}:\n    members:\n      - target: ${l.model}\n`).join('');
  return [
    'listen: 127.0.0.1:0',
    'auth:',
    '  mode: token',
    `  client_tokens: [${CLIENT_TOKEN}]`,
    'providers:',
    providers.trimEnd(),
    'models:',
    models.trimEnd(),
    'pools:',
    pools.trimEnd(),
    extra,
  ].join('\n');
}

/** The key variables the gateway reads for the six providers. */
export function sixProvidersEnv(): Record<string, string> {
  return Object.fromEntries(LANE_LIST.map((l) => [l.keyEnv, l.key]));
}
