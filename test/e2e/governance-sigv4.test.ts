// Bedrock SigV4 ingress under governance (G-GOV-25…28): the official AWS SDK, signing with a key
// pair the admin API issued, is admitted and governed; a wrong secret, a stale date, a tampered
// body or an unknown id all get the same native 403.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  AccessDeniedException,
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { Hash } from '@smithy/hash-node';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { admin, governanceYaml, mintKey, tempDbPath } from '../support/governance.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { LANES, sixProvidersCatalog, sixProvidersConfig, sixProvidersEnv } from '../support/six-providers.ts';

let mock: MockUpstream;
let gw: Gateway;
before(async () => {
  mock = await startMockUpstream();
  gw = await startGateway({
    configYaml: sixProvidersConfig(governanceYaml(tempDbPath())),
    providersYaml: sixProvidersCatalog(mock.url),
    env: sixProvidersEnv(),
  });
});
after(async () => {
  await gw?.stop();
  await mock?.close();
});

function client(accessKeyId: string, secretAccessKey: string, systemClockOffset = 0): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    endpoint: gw.url,
    region: 'us-east-1',
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
    systemClockOffset,
    requestHandler: new NodeHttpHandler(),
  });
}

const converse = (c: BedrockRuntimeClient, modelId: string = LANES.bedrock.pool) =>
  c.send(new ConverseCommand({ modelId, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));

async function issued(
  fields: Record<string, unknown> = {},
): Promise<{ id: string; akid: string; secret: string }> {
  const { id, body } = await mintKey(gw.url, { issue_aws_credential: true, ...fields });
  assert.match(String(body.aws_access_key_id), /^AKIA[A-Z2-7]{16}$/);
  assert.match(String(body.aws_secret_access_key), /^[A-Za-z0-9+/]{40}$/);
  return { id, akid: String(body.aws_access_key_id), secret: String(body.aws_secret_access_key) };
}

const denied = (err: unknown): boolean => {
  assert.ok(err instanceof AccessDeniedException, String(err));
  assert.equal(err.$metadata.httpStatusCode, 403);
  return true;
};

test('the AWS SDK signing with an issued pair is admitted, streamed and not, and charged', async () => {
  const { id, akid, secret } = await issued();
  const c = client(akid, secret);
  const r = await converse(c);
  assert.equal(r.output?.message?.content?.[0]?.text, 'Hello from bedrock mock');
  // A model id holding a colon, translated to another protocol.
  const s = await c.send(
    new ConverseStreamCommand({
      modelId: LANES.openai.model,
      messages: [{ role: 'user', content: [{ text: 'hi' }] }],
    }),
  );
  let text = '';
  for await (const e of s.stream ?? []) text += e.contentBlockDelta?.delta?.text ?? '';
  assert.equal(text, 'Hello from openai mock');
  c.destroy();
  const usage = await admin(gw.url, 'GET', `/admin/keys/${id}/usage`);
  assert.equal(usage.body.requests, 2);
  const list = JSON.stringify((await admin(gw.url, 'GET', '/admin/keys')).body);
  assert.ok(!list.includes(secret) && !list.includes(akid), 'reads never show the pair');
});

test('a wrong secret, an unknown id, a stale date, a disabled or deleted key: the same 403', async () => {
  const { id, akid, secret } = await issued();
  // Another last character, whatever the issued one is (1 in 64 ends in 'x').
  const wrong = `${secret.slice(0, -1)}${secret.endsWith('x') ? 'y' : 'x'}`;
  await assert.rejects(converse(client(akid, wrong)), denied);
  await assert.rejects(converse(client('AKIAAAAAAAAAAAAAAAAA', secret)), denied);
  await assert.rejects(converse(client(akid, secret, -600_000)), denied);
  await admin(gw.url, 'PATCH', `/admin/keys/${id}`, { enabled: false });
  await assert.rejects(converse(client(akid, secret)), denied);
  await admin(gw.url, 'PATCH', `/admin/keys/${id}`, { enabled: true });
  assert.ok(await converse(client(akid, secret)));
  await admin(gw.url, 'DELETE', `/admin/keys/${id}`);
  await assert.rejects(converse(client(akid, secret)), denied);
});

test('a body changed after signing is refused; the signed original passes', async () => {
  const { akid, secret } = await issued();
  const url = new URL(gw.url);
  const body = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] });
  const signer = new SignatureV4({
    credentials: { accessKeyId: akid, secretAccessKey: secret },
    region: 'us-east-1',
    service: 'bedrock',
    sha256: Hash.bind(null, 'sha256'),
    applyChecksum: true,
  });
  const path = `/model/${LANES.bedrock.pool}/converse`;
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path,
    headers: { host: url.host, 'content-type': 'application/json' },
    body,
  });
  const send = (b: string) =>
    fetch(`${gw.url}${path}`, { method: 'POST', headers: signed.headers as Record<string, string>, body: b });
  const tampered = await send(body.replace('hi', 'ho'));
  assert.equal(tampered.status, 403);
  await tampered.text();
  const ok = await send(body);
  assert.equal(ok.status, 200, await ok.text());
});

test('governance rules apply to a signed key: its ACL', async () => {
  const { akid, secret } = await issued({ allowed_pools: [LANES.anthropic.pool] });
  await assert.rejects(converse(client(akid, secret)), (err: unknown) => {
    assert.ok(err instanceof AccessDeniedException, String(err));
    assert.equal(err.$metadata.httpStatusCode, 403);
    assert.match(err.message, /does not have permission/);
    return true;
  });
});
