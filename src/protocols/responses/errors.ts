// The Responses API uses OpenAI's error envelope.

export {
  openAIAuthFailure as responsesAuthFailure,
  openAIModelNotFound as responsesModelNotFound,
  readOpenAIError as readResponsesError,
  writeOpenAIError as writeResponsesError,
} from '../openai/errors.ts';
