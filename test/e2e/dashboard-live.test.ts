// The dashboard's live stream (/ui/api/live) read as the page reads it: the numbers it shows are
// exact — requests and tokens per second summed over every worker, each key's spend and its
// RPM/TPM use, from the SQLite arbiter and from the shared PostgreSQL + Redis stores.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  createTestDatabase,
  fleetDeploymentYaml,
  REDIS_URL,
  redisPrefix,
  type TestDatabase,
} from '../support/fleet.ts';
import { onFreshConnection } from '../support/fresh-connection.ts';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { ADMIN_TOKEN, governanceYaml, mintKey, tempDbPath } from '../support/governance.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { LANES, sixProvidersCatalog, sixProvidersConfig, sixProvidersEnv } from '../support/six-providers.ts';

interface Tick {
  point: {
    requests: number;
    tokens_in: number;
    tokens_out: number;
    pools: Record<string, { requests: number }>;
  };
  state: {
    workers: number;
    lanes: { name: string; ok: number }[];
    keys: { id: string; spend_cents: number; rpm_used: number | null; tpm_used: number | null }[] | null;
  } | null;
}

/** Reads the stream until `done` holds over every point seen so far and the latest state. */
async function watch(
  gw: Gateway,
  done: (points: Tick['point'][], state: Tick['state']) => boolean,
): Promise<void> {
  const res = await fetch(`${gw.url}/ui/api/live`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const points: Tick['point'][] = [];
  let text = '';
  const end = Date.now() + 15_000;
  try {
    while (Date.now() < end) {
      const { value, done: closed } = await reader.read();
      if (closed) break;
      text += decoder.decode(value, { stream: true });
      let cut = text.indexOf('\n\n');
      while (cut >= 0) {
        const block = text.slice(0, cut);
        text = text.slice(cut + 2);
        cut = text.indexOf('\n\n');
        const data = JSON.parse(block.slice(block.indexOf('data: ') + 6)) as Tick & {
          points?: Tick['point'][];
        };
        if (block.startsWith('event: snapshot')) points.push(...(data.points ?? []));
        else {
          points.push(data.point);
          if (done(points, data.state)) return;
        }
      }
    }
    assert.fail('the stream never showed the expected figures');
  } finally {
    await reader.cancel();
  }
}

const sum = (points: Tick['point'][], pick: (p: Tick['point']) => number): number =>
  points.reduce((a, p) => a + pick(p), 0);

/** RPM/TPM windows are whole minutes: start early in one so the requests and the read share it. */
async function earlyInAMinute(): Promise<void> {
  const into = Date.now() % 60_000;
  if (into > 40_000) await new Promise((r) => setTimeout(r, 60_000 - into + 200));
}

async function chat(gw: Gateway, secret: string, n: number): Promise<void> {
  const body = { model: LANES.openai.pool, messages: [{ role: 'user', content: 'hi' }] };
  const replies = await Promise.all(
    Array.from({ length: n }, () => onFreshConnection(`${gw.url}/v1/chat/completions`, secret, body)),
  );
  for (const r of replies) assert.equal(r.status, 200, r.text);
}

let mock: MockUpstream;
before(async () => {
  mock = await startMockUpstream();
});
after(() => mock?.close());

for (const workers of [1, 2]) {
  describe(`SQLite governance, workers: ${workers}`, () => {
    let gw: Gateway;
    before(async () => {
      gw = await startGateway({
        configYaml: `workers: ${workers}\ndashboard:\n  enabled: true\n${sixProvidersConfig(governanceYaml(tempDbPath()))}`,
        providersYaml: sixProvidersCatalog(mock.url),
        env: sixProvidersEnv(),
      });
    });
    after(() => gw?.stop());

    if (workers === 1)
      test('the page is served under its policy; the stream wants the token and GET', async () => {
        const bare = await fetch(`${gw.url}/ui`, { redirect: 'manual' });
        assert.equal(bare.status, 308);
        assert.equal(bare.headers.get('location'), '/ui/');
        const page = await fetch(`${gw.url}/ui/`);
        assert.equal(page.status, 200);
        assert.match(
          page.headers.get('content-security-policy') ?? '',
          /default-src 'none'; script-src 'self'/,
        );
        assert.match(await page.text(), /<script type="module" src="\.\/app\.js">/);
        assert.equal((await fetch(`${gw.url}/ui/nope.js`)).status, 404);
        assert.equal((await fetch(`${gw.url}/ui/api/live`)).status, 401);
        const head = await fetch(`${gw.url}/ui/api/live`, {
          method: 'HEAD',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        });
        assert.equal(head.status, 405);
      });

    test('30 requests: counted once each, tokens exact, the key at 30 cents and 30 of its RPM', async () => {
      const { id, secret } = await mintKey(gw.url, { rpm_limit: 1000 });
      await earlyInAMinute();
      await chat(gw, secret, 30);
      await watch(gw, (points, state) => {
        const key = state?.keys?.find((k) => k.id === id);
        return (
          sum(points, (p) => p.requests) === 30 &&
          sum(points, (p) => p.pools[LANES.openai.pool]?.requests ?? 0) === 30 &&
          // The mock reports 11 input and 7 output tokens per answer.
          sum(points, (p) => p.tokens_in) === 330 &&
          sum(points, (p) => p.tokens_out) === 210 &&
          state?.workers === workers &&
          state.lanes.find((l) => l.name === LANES.openai.model)?.ok === 30 &&
          key?.spend_cents === 30 &&
          key.rpm_used === 30
        );
      });
    });
  });
}

describe('governance on PostgreSQL + Redis', () => {
  let db: TestDatabase;
  const redis = redisPrefix();
  let gw: Gateway;
  before(async () => {
    db = await createTestDatabase();
    gw = await startGateway({
      configYaml: `dashboard:\n  enabled: true\n${fleetDeploymentYaml(
        { postgres: db.url, redis: REDIS_URL, prefix: redis.prefix },
        { maxConcurrent: 16 },
      )}`,
      providersYaml: sixProvidersCatalog(mock.url),
      env: sixProvidersEnv(),
    });
  });
  after(async () => {
    await gw?.stop();
    await db?.drop();
    await redis.clear();
  });

  test("a key's spend and RPM/TPM use come from the shared stores", async () => {
    const { id, secret } = await mintKey(gw.url, { rpm_limit: 1000, tpm_limit: 1_000_000 });
    await earlyInAMinute();
    await chat(gw, secret, 12);
    await watch(gw, (_points, state) => {
      const key = state?.keys?.find((k) => k.id === id);
      return key?.spend_cents === 12 && key.rpm_used === 12 && key.tpm_used === 12 * 18;
    });
  });
});
