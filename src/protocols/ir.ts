// The intermediate representation: the one contract between protocols (protocols.md §3).
// Every reader produces these shapes and every writer consumes them; nothing else crosses
// from one protocol's folder to another's.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface CacheControl {
  readonly type: 'ephemeral';
  readonly ttl?: string;
}

// ---- content blocks (P-IR-2) -------------------------------------------------------------

export interface TextBlock {
  readonly type: 'text';
  readonly text: string;
  readonly citations?: readonly JsonValue[];
  readonly cacheControl?: CacheControl;
}

export type ImageSource =
  | { readonly kind: 'base64'; readonly mediaType: string; readonly data: string }
  | { readonly kind: 'url'; readonly url: string; readonly mediaType?: string };

export interface ImageBlock {
  readonly type: 'image';
  readonly source: ImageSource;
  readonly cacheControl?: CacheControl;
}

export type DocumentSource =
  | { readonly kind: 'base64'; readonly mediaType: string; readonly data: string }
  | { readonly kind: 'url'; readonly url: string; readonly mediaType?: string }
  | { readonly kind: 'text'; readonly text: string };

export interface DocumentBlock {
  readonly type: 'document';
  readonly source: DocumentSource;
  readonly title?: string;
  readonly cacheControl?: CacheControl;
}

export interface ThinkingBlock {
  readonly type: 'thinking';
  readonly thinking: string;
  readonly signature?: string;
}

export interface RedactedThinkingBlock {
  readonly type: 'redacted_thinking';
  readonly data: string;
}

export interface ToolUseBlock {
  readonly type: 'tool_use';
  readonly id: string;
  readonly name: string;
  /** Parsed arguments object (protocols that carry a JSON string are parsed at the reader). */
  readonly input: JsonObject;
}

export interface ToolResultBlock {
  readonly type: 'tool_result';
  readonly toolUseId: string;
  /** Tool name when the source protocol carries it (Gemini functionResponse needs one). */
  readonly name?: string;
  readonly content: readonly (TextBlock | ImageBlock | DocumentBlock)[];
  readonly isError?: boolean;
  readonly cacheControl?: CacheControl;
}

export type ContentBlock =
  | TextBlock
  | ImageBlock
  | DocumentBlock
  | ThinkingBlock
  | RedactedThinkingBlock
  | ToolUseBlock
  | ToolResultBlock;

// ---- request (P-IR-1) --------------------------------------------------------------------

export type Role = 'user' | 'assistant';

export interface Message {
  readonly role: Role;
  readonly content: readonly ContentBlock[];
}

export interface ToolDefinition {
  readonly name: string;
  readonly description?: string;
  /** JSON Schema of the arguments object. */
  readonly inputSchema: JsonObject;
  readonly cacheControl?: CacheControl;
}

export type ToolChoice =
  | { readonly type: 'auto'; readonly disableParallel?: boolean }
  | { readonly type: 'any'; readonly disableParallel?: boolean }
  | { readonly type: 'none' }
  | { readonly type: 'tool'; readonly name: string; readonly disableParallel?: boolean };

export type ResponseFormat =
  | { readonly type: 'text' }
  | { readonly type: 'json_object' }
  | {
      readonly type: 'json_schema';
      readonly name: string;
      readonly schema: JsonObject;
      readonly strict?: boolean;
    };

export interface ReasoningSettings {
  readonly effort?: 'minimal' | 'low' | 'medium' | 'high';
  readonly budgetTokens?: number;
  /** Explicitly disabled (e.g. Anthropic `thinking: {type: 'disabled'}`). */
  readonly disabled?: boolean;
}

export interface Request {
  readonly model: string;
  readonly system: readonly TextBlock[];
  /** Tool results travel as user messages holding `tool_result` blocks. */
  readonly messages: readonly Message[];
  readonly tools: readonly ToolDefinition[];
  readonly toolChoice?: ToolChoice;
  readonly maxTokens?: number;
  /** Kept as the exact number the caller sent. */
  readonly temperature?: number;
  readonly topP?: number;
  readonly topK?: number;
  readonly stop: readonly string[];
  readonly stream: boolean;
  /**
   * OpenAI Chat `stream_options.include_usage`: whether the client asked for the trailing usage chunk.
   * Set only by readers whose protocol makes usage opt-in; the core passes it to the ingress stream
   * writer (StreamWriterOptions.includeUsage). Absent means the writer's default.
   */
  readonly includeUsage?: boolean;
  readonly responseFormat?: ResponseFormat;
  readonly reasoning?: ReasoningSettings;
  readonly user?: string;
  readonly metadata?: JsonObject;
  /** Unmodelled top-level fields of the source protocol; dropped on a cross-protocol hop (P-XLT-2). */
  readonly extra: JsonObject;
}

// ---- response (P-IR-3, P-IR-4) -----------------------------------------------------------

export type StopReason =
  | 'end_turn'
  | 'max_tokens'
  | 'stop_sequence'
  | 'tool_use'
  | 'content_filter'
  | 'error';

export interface Usage {
  /**
   * All prompt tokens, cached ones included (OpenAI `prompt_tokens` convention). Protocols that report
   * uncached input separately (Anthropic, Bedrock) add their cache read/creation counts when reading
   * and subtract them again when writing.
   */
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadInputTokens?: number;
  readonly cacheCreationInputTokens?: number;
  readonly reasoningTokens?: number;
  /** As reported; else input + output. */
  readonly totalTokens?: number;
  /** Rerank search units, as billed. */
  readonly searchUnits?: number;
}

export interface Response {
  readonly id: string;
  /** The upstream's model value. */
  readonly model: string;
  readonly content: readonly ContentBlock[];
  readonly stopReason: StopReason;
  /** The matched stop sequence, when the upstream reported one. */
  readonly stopSequence?: string;
  readonly usage: Usage;
  /** Upstream creation time in epoch seconds, when it reported one. */
  readonly created?: number;
}

// ---- stream events (P-IR-5) --------------------------------------------------------------

export type BlockStart =
  | { readonly type: 'text' }
  | { readonly type: 'thinking' }
  | { readonly type: 'redacted_thinking'; readonly data: string }
  | { readonly type: 'tool_use'; readonly id: string; readonly name: string };

/**
 * Readers number blocks 0, 1, 2… in `block_start` order (P-XLT-4: a leading thinking block is 0).
 * `signature_delta` pieces are appended like the other deltas (Anthropic sends the whole signature
 * in one piece). Writers tolerate any order: a delta for an unstarted block starts it, a
 * `message_delta` closes open blocks, usage may be absent.
 */
export type StreamEvent =
  | {
      readonly type: 'message_start';
      readonly id: string;
      readonly model: string;
      readonly usage?: Usage;
      readonly created?: number;
    }
  | { readonly type: 'block_start'; readonly index: number; readonly block: BlockStart }
  | { readonly type: 'text_delta'; readonly index: number; readonly text: string }
  | { readonly type: 'thinking_delta'; readonly index: number; readonly thinking: string }
  | { readonly type: 'signature_delta'; readonly index: number; readonly signature: string }
  | { readonly type: 'tool_args_delta'; readonly index: number; readonly partialJson: string }
  | { readonly type: 'block_stop'; readonly index: number }
  | {
      readonly type: 'message_delta';
      readonly stopReason: StopReason;
      readonly stopSequence?: string;
      readonly usage?: Usage;
    }
  | { readonly type: 'message_stop' }
  | { readonly type: 'error'; readonly error: GatewayErrorInfo };

// ---- errors (P-ERR) ----------------------------------------------------------------------

/** Canonical error kinds a writer renders in its protocol's native envelope (G-GEN-4). */
export type ErrorKind =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'insufficient_quota'
  | 'api_error'
  | 'overloaded'
  | 'timeout';

export interface GatewayErrorInfo {
  readonly kind: ErrorKind;
  readonly status: number;
  readonly message: string;
  /** OpenAI-style `code` (e.g. `invalid_api_key`), when meaningful. */
  readonly code?: string;
  /** Seconds, for 429/503 answers (becomes `Retry-After`). */
  readonly retryAfter?: number;
}
