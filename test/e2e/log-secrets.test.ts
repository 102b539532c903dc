// Structured logs at `trace` level through a full scripted workload (issue 12, G-OBS-50, G-SEC-50):
// every protocol through its official SDK, SigV4 right and wrong, a failover, a hard-down on the
// gateway's own key, a reset connection, malformed JSON, refused credentials, `?key=` in a query,
// admin calls, OTLP export with URL credentials — then every secret the run used is looked for in
// everything the gateway wrote. None may appear, and neither may the prompt or the answer text.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { ADMIN_TOKEN, admin, governanceYaml, mintKey, tempDbPath } from '../support/governance.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { SDK_CALLS } from '../support/sdk-calls.ts';
import {
  LANE_LIST,
  LANES,
  sixProvidersCatalog,
  sixProvidersConfig,
  sixProvidersEnv,
} from '../support/six-providers.ts';

const PROMPT = 'prompt-text-that-must-never-be-logged-4417';
const ANSWER = 'answer-text-that-must-never-be-logged-9023';
const OTLP_PASSWORD = 'otlp-password-7c1e';

let mock: MockUpstream;
let collector: Server;
let gw: Gateway;
const secrets: string[] = [ADMIN_TOKEN, OTLP_PASSWORD, PROMPT, ANSWER, ...LANE_LIST.map((l) => l.key)];

before(async () => {
  mock = await startMockUpstream({ text: ANSWER });
  collector = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end());
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  const otlp = `http://busbar:${OTLP_PASSWORD}@127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;
  gw = await startGateway({
    configYaml: sixProvidersConfig(
      `observability:\n  otlp_endpoint: "${otlp}"\n  response_headers: true\n${governanceYaml(tempDbPath())}`,
    ),
    providersYaml: sixProvidersCatalog(mock.url),
    env: { ...sixProvidersEnv(), BUSBAR_LOG: 'trace' },
  });
});
after(async () => {
  await gw?.stop();
  collector?.close();
  await mock?.close();
});

async function raw(path: string, headers: Record<string, string>, body: string): Promise<number> {
  const r = await fetch(`${gw.url}${path}`, { method: 'POST', headers, body });
  await r.arrayBuffer();
  return r.status;
}

test('a trace-level log of a full workload holds no secret, key, token or body', async () => {
  const key = await mintKey(gw.url, { issue_aws_credential: true });
  const aws = { id: String(key.body.aws_access_key_id), secret: String(key.body.aws_secret_access_key) };
  const other = await mintKey(gw.url, { rpm_limit: 1 });
  secrets.push(key.secret, aws.secret, other.secret);

  // Every protocol through its own SDK, whole and streamed (Bedrock signs with the issued pair below).
  for (const lane of LANE_LIST.filter((l) => l.protocol !== 'bedrock')) {
    for (const stream of [false, true]) {
      const r = await SDK_CALLS[lane.protocol]({
        baseUrl: gw.url,
        token: key.secret,
        name: lane.pool,
        stream,
        prompt: PROMPT,
      });
      assert.equal(r.text, ANSWER, `${lane.protocol} stream=${stream}`);
    }
  }
  const signed = (secretAccessKey: string) =>
    new BedrockRuntimeClient({
      endpoint: gw.url,
      region: 'us-east-1',
      credentials: { accessKeyId: aws.id, secretAccessKey },
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler(),
    });
  const converse = new ConverseCommand({
    modelId: LANES.bedrock.pool,
    messages: [{ role: 'user', content: [{ text: PROMPT }] }],
  });
  const good = signed(aws.secret);
  assert.equal((await good.send(converse)).output?.message?.content?.[0]?.text, ANSWER);
  good.destroy();
  const wrongSecret = `${aws.secret.slice(0, -1)}${aws.secret.endsWith('A') ? 'B' : 'A'}`;
  const bad = signed(wrongSecret);
  await assert.rejects(bad.send(converse));
  bad.destroy();

  const auth = { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json' };
  const chat = JSON.stringify({ model: LANES.openai.pool, messages: [{ role: 'user', content: PROMPT }] });
  // A transient failure, then the upstream refusing the gateway's own key (hard-down), then a reset.
  mock.enqueue({ status: 500, message: PROMPT });
  assert.equal(await raw('/v1/chat/completions', auth, chat), 503);
  mock.enqueue({ status: 401, message: 'bad key' });
  assert.equal(
    await raw(
      '/v1/chat/completions',
      { ...auth },
      JSON.stringify({ model: LANES.anthropic.model, messages: [{ role: 'user', content: PROMPT }] }),
    ),
    401,
  );
  mock.enqueue({ resetConnection: true });
  assert.equal(
    await raw(
      '/v1/chat/completions',
      auth,
      JSON.stringify({ model: LANES.cohere.model, messages: [{ role: 'user', content: PROMPT }] }),
    ),
    503,
  );
  // Malformed JSON, an unknown model, refused and missing credentials, a rate limit.
  assert.equal(await raw('/v1/chat/completions', auth, `{"model": "${PROMPT}", `), 400);
  assert.equal(await raw('/v1/chat/completions', auth, JSON.stringify({ model: PROMPT, messages: [] })), 404);
  assert.equal(
    await raw('/v1/chat/completions', { ...auth, authorization: `Bearer ${key.secret}x` }, chat),
    401,
  );
  // (The OpenAI lane cools down after its 500: the rate limit is tried on another model.)
  const limited = JSON.stringify({
    model: LANES.responses.model,
    messages: [{ role: 'user', content: PROMPT }],
  });
  const otherAuth = { authorization: `Bearer ${other.secret}`, 'content-type': 'application/json' };
  assert.equal(await raw('/v1/chat/completions', otherAuth, limited), 200);
  assert.equal(await raw('/v1/chat/completions', otherAuth, limited), 429);
  // Gemini's key in the query string, right and wrong.
  const gemini = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: PROMPT }] }] });
  const geminiPath = `/v1beta/models/${LANES.gemini.pool}:generateContent`;
  assert.equal(
    await raw(`${geminiPath}?key=${key.secret}`, { 'content-type': 'application/json' }, gemini),
    200,
  );
  assert.equal(
    await raw(`${geminiPath}?key=${key.secret}zz`, { 'content-type': 'application/json' }, gemini),
    400,
  );
  // Admin calls, right token and wrong.
  assert.equal((await admin(gw.url, 'GET', '/admin/keys')).status, 200);
  assert.equal((await admin(gw.url, 'PATCH', `/admin/keys/${other.id}`, { rpm_limit: 5 })).status, 200);
  const wrongAdmin = await fetch(`${gw.url}/admin/keys`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}x` },
  });
  assert.equal(wrongAdmin.status, 401);
  assert.equal((await admin(gw.url, 'DELETE', `/admin/keys/${other.id}`)).status, 200);
  // Scrapes, and the trace export flushed at shutdown.
  assert.equal(
    (await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${key.secret}` } })).status,
    200,
  );
  assert.equal(await gw.stop(), 0);

  const out = gw.stderr() + gw.stdout();
  // The run really logged at trace level: one line per finished request, as JSON.
  const finished = out.split('\n').filter((l) => l.includes('"request finished"'));
  assert.ok(finished.length >= 20, `${finished.length} request lines`);
  assert.ok(out.includes('"lane hard-down"'), 'the hard-down was logged');
  for (const secret of secrets) assert.ok(!out.includes(secret), `the log holds ${secret.slice(0, 12)}…`);
  // Nor any prefix long enough to identify a secret (a log line cutting a key short).
  for (const secret of secrets.filter((s) => s.length >= 24))
    assert.ok(!out.includes(secret.slice(0, 16)), `the log holds the start of ${secret.slice(0, 8)}…`);
});
