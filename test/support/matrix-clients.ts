// Each official SDK driven through a text turn and a two-turn tool round trip, reporting what the SDK itself
// surfaced (text, stop reason, usage and tool calls under the SDK's own field names) for the translation matrix.
//
// Turn 1 declares WEATHER_TOOL; turn 2 replays the assistant turn as the SDK returned it and answers every call
// with the ids the client got, the way each SDK's own docs show a tool loop. One driver per protocol lives in
// matrix-clients/.

import type { Protocol } from '../../src/protocols/names.ts';
import { anthropic } from './matrix-clients/anthropic.ts';
import { bedrock } from './matrix-clients/bedrock.ts';
import { cohere } from './matrix-clients/cohere.ts';
import { gemini } from './matrix-clients/gemini.ts';
import { openaiChat } from './matrix-clients/openai.ts';
import { openaiResponses } from './matrix-clients/responses.ts';
import type { MatrixClient, MatrixClientOptions } from './matrix-clients/shared.ts';

export {
  type AskOptions,
  type MatrixClient,
  type MatrixClientOptions,
  type ToolCallSeen,
  type ToolConversation,
  type TurnResult,
  WEATHER_RESULT,
  WEATHER_TOOL,
} from './matrix-clients/shared.ts';

const FACTORIES: Record<Protocol, (o: MatrixClientOptions) => MatrixClient> = {
  openai: openaiChat,
  responses: openaiResponses,
  anthropic,
  gemini,
  cohere,
  bedrock,
};

export function matrixClient(protocol: Protocol, o: MatrixClientOptions): MatrixClient {
  return FACTORIES[protocol](o);
}
