// A body its protocol refuses is an InvalidRequest naming the field, whether it translates inline or
// on the worker thread (large bodies), so the client's 400 says what is wrong either way.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { OFF_THREAD_BYTES, type TranslationJob, translate } from '../../src/lifecycle/translate-request.ts';
import { InvalidRequest } from '../../src/protocols/expect.ts';

function job(body: object): TranslationJob {
  const bytes = Buffer.from(JSON.stringify(body));
  return {
    ingress: 'openai',
    upstream: 'anthropic',
    body: bytes,
    name: 'm',
    stream: false,
    model: 'up',
    operation: 'chat',
    defaultMaxTokens: 16,
  };
}

const refused = (err: unknown): boolean =>
  err instanceof InvalidRequest && err.message === 'messages[0].content: expected a string or an array';

for (const [where, pad] of [
  ['inline', ''],
  ['on the worker thread', 'x'.repeat(OFF_THREAD_BYTES)],
] as const) {
  it(`9a a refused body rejects with the reader's InvalidRequest ${where}`, async () => {
    await assert.rejects(translate(job({ messages: [{ role: 'user', content: 5 }], pad })), refused);
    const ok = await translate(job({ messages: [{ role: 'user', content: 'hi' }], pad }));
    assert.equal(JSON.parse(ok.body.toString()).messages[0].content[0].text, 'hi');
  });
}
