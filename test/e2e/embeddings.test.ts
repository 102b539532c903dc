// Issue 14: embeddings through the gateway with the official SDKs — OpenAI `embeddings.create`,
// `@google/genai` `models.embedContent`, `cohere-ai` `v2.embed` and the Bedrock SDK's
// `InvokeModel` — against mock upstreams of every other protocol (a 4×4 matrix, printed), with
// vectors and usage intact; `cohere-ai` `v2.rerank`; pools, failover and mode checks.

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCohere } from '@ai-sdk/cohere';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createOpenAI } from '@ai-sdk/openai';
import { BedrockRuntimeClient, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { GoogleGenAI } from '@google/genai';
import { GoogleGenerativeAIEmbeddings } from '@langchain/google-genai';
import { OpenAIEmbeddings } from '@langchain/openai';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { embedMany } from 'ai';
import { CohereClientV2 } from 'cohere-ai';
import OpenAI from 'openai';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { mockTokens, mockVector } from '../support/mock-wire/embeddings.ts';
import { logRecords } from '../support/request-log-file.ts';

const TOKEN = 'embed-test-token';
type Wire = 'openai' | 'gemini' | 'cohere' | 'bedrock';
const WIRES: Wire[] = ['openai', 'gemini', 'cohere', 'bedrock'];

/** One embedding model per upstream protocol; Bedrock's is a Cohere embed model (it takes batches). */
const MODELS: Record<Wire, string> = {
  openai: 'text-embedding-3-small',
  gemini: 'text-embedding-004',
  cohere: 'embed-v4.0',
  bedrock: 'cohere.embed-v4:0',
};
const TITAN = 'amazon.titan-embed-text-v2:0';
/** Which upstreams report input tokens (Gemini's embedding answers carry none). */
const REPORTS_USAGE: Record<Wire, boolean> = { openai: true, gemini: false, cohere: true, bedrock: true };

const TEXTS = ['hello embedding world', 'the gateway keeps vectors intact'];

let mock: MockUpstream;
let down: MockUpstream;
let gw: Gateway;
let logFile: string;

function catalog(url: string, downUrl: string): string {
  return [
    ...WIRES.map((w) => `up-${w}:\n  protocol: ${w}\n  base_url: ${url}\n`),
    `down-openai:\n  protocol: openai\n  base_url: ${downUrl}\n`,
  ].join('');
}

function config(): string {
  const providers = [...WIRES.map((w) => `up-${w}`), 'down-openai']
    .map((p) => `  ${p}:\n    api_key_env: EMBED_KEY`)
    .join('\n');
  const models = WIRES.map(
    (w) => `  ${MODELS[w]}:\n    provider: up-${w}\n    max_concurrent: 8\n    mode: embedding`,
  );
  return [
    'listen: 127.0.0.1:0',
    `auth:\n  mode: token\n  client_tokens: [${TOKEN}]`,
    'providers:',
    providers,
    'models:',
    ...models,
    `  ${TITAN}:\n    provider: up-bedrock\n    max_concurrent: 8\n    mode: embedding`,
    '  embed-broken:\n    provider: down-openai\n    max_concurrent: 8\n    mode: embedding',
    '  rerank-v3.5:\n    provider: up-cohere\n    max_concurrent: 8\n    mode: rerank',
    '  chat-model:\n    provider: up-openai\n    max_concurrent: 8',
    'pools:',
    '  embed-pool:\n    members:\n      - target: embed-broken\n        weight: 100\n      - target: text-embedding-004\n        weight: 1',
    `observability:\n  request_log_file: ${logFile}`,
  ].join('\n');
}

before(async () => {
  logFile = path.join(mkdtempSync(path.join(tmpdir(), 'busbar-embed-')), 'requests.jsonl');
  mock = await startMockUpstream();
  down = await startMockUpstream();
  gw = await startGateway({
    configYaml: config(),
    providersYaml: catalog(mock.url, down.url),
    env: { EMBED_KEY: 'sk-upstream-embed' },
  });
});
after(async () => {
  await gw?.stop();
  await mock?.close();
  await down?.close();
});

interface Embedded {
  readonly vectors: number[][];
  /** Input tokens as the SDK surfaced them (undefined where the protocol has no usage field). */
  readonly tokens: number | undefined;
}

async function viaOpenAI(model: string, texts: string[]): Promise<Embedded> {
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: TOKEN, maxRetries: 0 });
  // No encoding_format: the SDK asks for base64 and decodes it itself.
  const r = await client.embeddings.create({ model, input: texts });
  return { vectors: r.data.map((d) => d.embedding), tokens: r.usage.prompt_tokens };
}

async function viaGemini(model: string, texts: string[]): Promise<Embedded> {
  const ai = new GoogleGenAI({ apiKey: TOKEN, httpOptions: { baseUrl: gw.url } });
  const r = await ai.models.embedContent({ model, contents: texts });
  return { vectors: (r.embeddings ?? []).map((e) => e.values ?? []), tokens: undefined };
}

async function viaCohere(model: string, texts: string[]): Promise<Embedded> {
  const client = new CohereClientV2({ token: TOKEN, environment: gw.url, maxRetries: 0 });
  const r = await client.embed({ model, texts, inputType: 'search_document', embeddingTypes: ['float'] });
  return { vectors: r.embeddings.float ?? [], tokens: r.meta?.billedUnits?.inputTokens };
}

function bedrockClient(): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    endpoint: gw.url,
    region: 'us-east-1',
    token: { token: TOKEN },
    authSchemePreference: ['httpBearerAuth'],
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler(),
  });
}

async function invoke(modelId: string, body: unknown): Promise<Record<string, unknown>> {
  const out = await bedrockClient().send(
    new InvokeModelCommand({
      modelId,
      contentType: 'application/json',
      accept: 'application/json',
      body: JSON.stringify(body),
    }),
  );
  return JSON.parse(Buffer.from(out.body).toString()) as Record<string, unknown>;
}

/** Bedrock's Cohere embed body (a batch); its answer carries no token count in the body. */
async function viaBedrock(model: string, texts: string[]): Promise<Embedded> {
  const r = await invoke(model, { texts, input_type: 'search_document', embedding_types: ['float'] });
  const embeddings = r.embeddings as { float: number[][] };
  return { vectors: embeddings.float, tokens: undefined };
}

const CLIENTS: Record<Wire, (model: string, texts: string[]) => Promise<Embedded>> = {
  openai: viaOpenAI,
  gemini: viaGemini,
  cohere: viaCohere,
  bedrock: viaBedrock,
};

/** The log's records once it holds `count` of them. */
const records = (count: number) => logRecords(logFile, count);

describe('embeddings: every SDK against every upstream protocol', () => {
  it('the 4×4 matrix returns the upstream vectors and usage', async () => {
    const rows: string[] = [];
    const want = TEXTS.map((t) => mockVector(t));
    const tokens = TEXTS.reduce((n, t) => n + mockTokens(t), 0);
    for (const client of WIRES) {
      const cells: string[] = [];
      for (const upstream of WIRES) {
        mock.reset();
        const logged = (await records(0)).length;
        const got = await CLIENTS[client](MODELS[upstream], TEXTS);
        const where = `${client} client → ${upstream} upstream`;
        assert.deepEqual(got.vectors, want, where);
        // The upstream received its own protocol's request on its own embeddings path.
        const sent = mock.last()!;
        assert.equal(sent.protocol, upstream, where);
        assert.equal(sent.response?.status, 200, where);
        if (got.tokens !== undefined) assert.equal(got.tokens, REPORTS_USAGE[upstream] ? tokens : 0, where);
        const record = (await records(logged + 1))[logged];
        assert.equal(record!.input_tokens, REPORTS_USAGE[upstream] ? tokens : null, `${where}: request log`);
        cells.push(`ok ${got.vectors.length}×${got.vectors[0]!.length} tok=${got.tokens ?? '-'}`);
      }
      rows.push(`${client.padEnd(8)} | ${cells.map((c) => c.padEnd(16)).join(' | ')}`);
    }
    console.log(
      `\nembeddings: client \\ upstream | ${WIRES.map((w) => w.padEnd(16)).join(' | ')}\n${rows.join('\n')}`,
    );
  });

  it('Titan (one input per call) serves every client a single input, and a Titan body reaches every upstream', async () => {
    const text = 'one lonely input';
    for (const client of WIRES) {
      if (client === 'bedrock') continue;
      const got = await CLIENTS[client](TITAN, [text]);
      assert.deepEqual(got.vectors, [mockVector(text)], client);
    }
    // A Bedrock client's Cohere-family body reaches Titan translated into Titan's, and back.
    const cohereBody = await viaBedrock(TITAN, [text]);
    assert.deepEqual(cohereBody.vectors, [mockVector(text)]);
    assert.deepEqual(mock.last()!.json(), { inputText: text });
    for (const upstream of WIRES) {
      const r = await invoke(MODELS[upstream], { inputText: text });
      assert.deepEqual(r.embedding, mockVector(text), upstream);
      assert.equal(r.inputTextTokenCount, REPORTS_USAGE[upstream] ? mockTokens(text) : 0, upstream);
    }
  });

  it('a batch to Titan is refused in the client protocol, naming the limit', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: TOKEN, maxRetries: 0 });
    await assert.rejects(
      client.embeddings.create({ model: TITAN, input: TEXTS }),
      (err: Error & { status?: number }) => {
        assert.equal(err.status, 400);
        assert.match(err.message, /one input per request/);
        return true;
      },
    );
  });

  it('dimensions and encodings cross protocols', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: TOKEN, maxRetries: 0 });
    const r = await client.embeddings.create({
      model: MODELS.gemini,
      input: 'short',
      dimensions: 6,
      encoding_format: 'float',
    });
    assert.deepEqual(r.data[0]!.embedding, mockVector('short', 6));
    assert.equal(
      mock.last()!.json() &&
        (mock.last()!.json() as { requests: { outputDimensionality: number }[] }).requests[0]!
          .outputDimensionality,
      6,
    );
    // base64 asked explicitly: the SDK hands the string back as it came.
    const b = await client.embeddings.create({
      model: MODELS.cohere,
      input: 'short',
      encoding_format: 'base64',
    });
    const packed = Buffer.from(b.data[0]!.embedding as unknown as string, 'base64');
    assert.deepEqual(
      [...new Float32Array(packed.buffer, packed.byteOffset, packed.length / 4)],
      mockVector('short'),
    );
    // Gemini's task type arrives as Cohere's input type.
    const ai = new GoogleGenAI({ apiKey: TOKEN, httpOptions: { baseUrl: gw.url } });
    await ai.models.embedContent({
      model: MODELS.cohere,
      contents: 'a query',
      config: { taskType: 'RETRIEVAL_QUERY' },
    });
    assert.equal((mock.last()!.json() as { input_type: string }).input_type, 'search_query');
  });

  it('a body over 1 MiB is translated off the event loop and answered whole', async () => {
    const big = `${'word '.repeat(300_000)}end`;
    const got = await viaOpenAI(MODELS.cohere, [big, 'small']);
    assert.deepEqual(got.vectors, [mockVector(big), mockVector('small')]);
    assert.equal(got.tokens, mockTokens(big) + 1);
  });

  it('same protocol forwards the client bytes, renaming only the model', async () => {
    const body =
      '{"input":["kept   as sent"],"model":"text-embedding-3-small","encoding_format":"float","user":"u-1"}';
    const r = await fetch(`${gw.url}/v1/embeddings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body,
    });
    assert.equal(r.status, 200);
    assert.equal(mock.last()!.body.toString(), body);
    assert.equal(await r.text(), mock.last()!.response!.body.toString());
  });
});

describe('embeddings: pools, failover and modes', () => {
  it('a pool of embedding models fails over from a failing member to the next', async () => {
    down.enqueue({ status: 503 });
    const got = await viaOpenAI('embed-pool', TEXTS);
    assert.deepEqual(
      got.vectors,
      TEXTS.map((t) => mockVector(t)),
    );
    assert.equal(down.requests.length, 1);
    assert.equal(mock.last()!.protocol, 'gemini');
  });

  it('a chat call to an embedding model, and an embedding call to a chat model, are refused natively', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: TOKEN, maxRetries: 0 });
    await assert.rejects(
      client.chat.completions.create({ model: MODELS.openai, messages: [{ role: 'user', content: 'hi' }] }),
      (err: Error & { status?: number }) =>
        err.status === 400 && /serves embeddings requests, not chat/.test(err.message),
    );
    await assert.rejects(
      client.embeddings.create({ model: 'chat-model', input: 'x' }),
      (err: Error & { status?: number }) =>
        err.status === 400 && /serves chat requests, not embeddings/.test(err.message),
    );
  });
});

describe('embeddings: third-party clients', () => {
  const want = TEXTS.map((t) => mockVector(t));

  it('the Vercel AI SDK embedMany through its OpenAI, Google and Cohere providers', async () => {
    const models = [
      createOpenAI({ baseURL: `${gw.url}/v1`, apiKey: TOKEN }).embedding(MODELS.bedrock),
      createGoogleGenerativeAI({ baseURL: `${gw.url}/v1beta`, apiKey: TOKEN }).embedding(MODELS.openai),
      createCohere({ baseURL: `${gw.url}/v2`, apiKey: TOKEN }).embedding(MODELS.gemini),
    ];
    for (const model of models) {
      const { embeddings } = await embedMany({ model, values: TEXTS, maxRetries: 0 });
      assert.deepEqual(embeddings, want, model.provider);
    }
  });

  it("LangChain's OpenAIEmbeddings and GoogleGenerativeAIEmbeddings", async () => {
    const openai = new OpenAIEmbeddings({
      model: MODELS.cohere,
      apiKey: TOKEN,
      configuration: { baseURL: `${gw.url}/v1` },
      maxRetries: 0,
    });
    assert.deepEqual(await openai.embedDocuments(TEXTS), want);
    assert.deepEqual(await openai.embedQuery(TEXTS[0]!), want[0]);
    const google = new GoogleGenerativeAIEmbeddings({
      model: MODELS.openai,
      apiKey: TOKEN,
      baseUrl: gw.url,
      maxRetries: 0,
    });
    assert.deepEqual(await google.embedDocuments(TEXTS), want);
  });
});

describe('rerank', () => {
  it('cohere-ai v2.rerank succeeds through the gateway, with its search units counted', async () => {
    const client = new CohereClientV2({ token: TOKEN, environment: gw.url, maxRetries: 0 });
    const r = await client.rerank({
      model: 'rerank-v3.5',
      query: 'capital of france',
      documents: ['Berlin is in Germany', 'Paris is the capital of France', 'the capital of Spain'],
      topN: 2,
    });
    assert.deepEqual(
      r.results.map((x) => x.index),
      [1, 2],
    );
    assert.equal(r.meta?.billedUnits?.searchUnits, 1);
    assert.equal(mock.last()!.path, '/v2/rerank');
    // Records are written after the answer, earlier tests' ones included: wait for this one by its lane.
    let record: Record<string, unknown> | undefined;
    for (let n = 1; record === undefined; n++)
      record = (await records(n)).find((x) => x.lane === 'rerank-v3.5');
    assert.equal(record.disposition, 'delivered');
    assert.equal(record.input_tokens, 0);
  });
});
