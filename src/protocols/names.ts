// The six wire protocols the gateway speaks on both sides.

export const PROTOCOLS = ['openai', 'responses', 'anthropic', 'gemini', 'cohere', 'bedrock'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export function isProtocol(value: unknown): value is Protocol {
  return typeof value === 'string' && (PROTOCOLS as readonly string[]).includes(value);
}

/** The wire protocol the in-process demo upstream speaks. */
export const DEMO_PROTOCOL: Protocol = 'openai';
