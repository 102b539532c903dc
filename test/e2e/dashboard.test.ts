// The operator dashboard (issue 17) driven in headless Chromium (Debian's `chromium`, with
// playwright-core) the way an operator uses it: sign in, watch a lane's breaker open when its
// upstream fails and close when it recovers, mint a key, use it from the OpenAI SDK, see its
// spend rise, revoke it and see the SDK refused. Every request the page makes is checked to stay
// on this machine. The screenshots in docs/dashboard/ are written here.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { type Gateway, REPO_ROOT, startGateway } from '../support/gateway-process.ts';
import { ADMIN_TOKEN, governanceYaml, tempDbPath } from '../support/governance.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(REPO_ROOT, 'docs', 'dashboard');

let flaky: MockUpstream;
let steady: MockUpstream;
let gw: Gateway;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Requests the page tried to send anywhere but this gateway (blocked). */
const offMachine: string[] = [];
const pageErrors: string[] = [];

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium package (.ci/run does)`);
  [flaky, steady] = await Promise.all([startMockUpstream(), startMockUpstream()]);
  gw = await startGateway({
    configYaml: [
      'listen: 127.0.0.1:0',
      'dashboard:',
      '  enabled: true',
      'providers:',
      '  up-flaky:',
      '    api_key_env: DASH_FLAKY_KEY',
      '  up-steady:',
      '    api_key_env: DASH_STEADY_KEY',
      'models:',
      '  flaky:',
      '    provider: up-flaky',
      '    max_concurrent: 8',
      '    upstream_model: gpt-4o-mini',
      '  steady:',
      '    provider: up-steady',
      '    max_concurrent: 8',
      '    upstream_model: gpt-4o-mini',
      'pools:',
      '  chat:',
      '    members:',
      '      - target: flaky',
      '        weight: 3',
      '      - target: steady',
      '    breaker:',
      '      base_cooldown_secs: 2',
      '      max_cooldown_secs: 2',
      '      trip:',
      '        mode: consecutive',
      '        n: 2',
      governanceYaml(tempDbPath()),
    ].join('\n'),
    providersYaml: [
      'up-flaky:',
      '  protocol: openai',
      `  base_url: ${flaky.url}`,
      'up-steady:',
      '  protocol: openai',
      `  base_url: ${steady.url}`,
    ].join('\n'),
    env: { DASH_FLAKY_KEY: 'sk-flaky', DASH_STEADY_KEY: 'sk-steady' },
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  context = await browser.newContext({ viewport: { width: 1366, height: 768 }, colorScheme: 'light' });
  const origin = new URL(gw.url).origin;
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) return route.continue();
    offMachine.push(url);
    return route.abort();
  });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/401|Unauthorized/.test(msg.text())) pageErrors.push(msg.text());
  });
});

after(async () => {
  await browser?.close();
  await gw?.stop();
  await flaky?.close();
  await steady?.close();
});

/** Polls `check` until it holds (or fails the test with `what`). */
async function until(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  assert.fail(`timed out waiting for ${what}`);
}

const laneBreaker = (lane: string) =>
  page.locator(`[data-testid="lane-row"][data-lane="${lane}"] [data-testid="lane-breaker"]`);

async function confirm(): Promise<void> {
  const dialog = page.getByTestId('confirm-dialog');
  await dialog.getByRole('button', { name: 'Confirm' }).click();
}

let secret = '';
let sdk: OpenAI;
const ask = () =>
  sdk.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hello' }] });

test('a wrong token sees the login form and nothing else', async () => {
  await page.goto(`${gw.url}/ui/`);
  await page.getByTestId('login').waitFor();
  await page.getByLabel('Admin token').fill('not-the-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('login-error').waitFor();
  assert.equal(await page.getByTestId('dashboard').count(), 0);
  assert.equal(await page.getByTestId('lane-row').count(), 0);
  // The token is kept only for the tab, never in the address.
  assert.ok(!page.url().includes('not-the-token'));
  await page.screenshot({ path: path.join(SHOTS, 'login.png') });
});

test('signed in, the lanes show closed breakers', async () => {
  await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('dashboard').waitFor();
  await until('both lanes listed closed', async () => {
    const states = await Promise.all(['flaky', 'steady'].map((l) => laneBreaker(l).textContent()));
    return states.every((s) => s?.trim() === 'closed');
  });
  assert.ok(!page.url().includes(ADMIN_TOKEN));
  assert.equal(await page.evaluate(() => sessionStorage.getItem('busbar.adminToken')), ADMIN_TOKEN);
  assert.equal(await page.evaluate(() => localStorage.getItem('busbar.adminToken')), null);
});

test('a key minted on the page works from the OpenAI SDK and its spend rises', async () => {
  await page.getByRole('button', { name: 'Mint key' }).click();
  await page.getByLabel('Name', { exact: true }).fill('team-a');
  await page.getByLabel('Budget (USD)').fill('5');
  await page.getByRole('button', { name: 'Mint', exact: true }).click();
  if (await page.getByTestId('confirm-dialog').isVisible()) await confirm();
  const shown = page.getByTestId('minted-secret');
  await shown.waitFor();
  secret = await shown.inputValue();
  assert.match(secret, /\S{20,}/);
  await page.screenshot({ path: path.join(SHOTS, 'minted-key.png') });
  await page.getByRole('button', { name: 'Done' }).click();

  sdk = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: secret, maxRetries: 0 });
  for (let i = 0; i < 5; i++) assert.equal((await ask()).choices[0]?.finish_reason, 'stop');
  const spend = page.locator('[data-testid="key-row"][data-key-name="team-a"] [data-testid="key-spend"]');
  // Each answered request costs the flat fee of 1 cent (no per-token prices configured).
  await until(
    'the key spend to reach 5 cents',
    async () => Number(await spend.getAttribute('data-cents')) >= 5,
  );
});

test('a failing upstream opens its lane breaker, and recovery closes it', async () => {
  flaky.enqueue(...Array.from({ length: 4 }, () => ({ status: 500 })));
  // Every request is still answered: the pool fails over to the steady lane.
  await until('the flaky lane to show open', async () => {
    assert.equal((await ask()).choices[0]?.finish_reason, 'stop');
    return (await laneBreaker('flaky').textContent())?.trim() === 'open';
  });
  assert.equal((await laneBreaker('steady').textContent())?.trim(), 'closed');
  await page.screenshot({ path: path.join(SHOTS, 'lane-open.png'), fullPage: true });
  // After the 2 s cooldown a probe request finds the upstream healthy again.
  await until('the flaky lane to close again', async () => {
    await ask();
    return (await laneBreaker('flaky').textContent())?.trim() === 'closed';
  });
  await page.screenshot({ path: path.join(SHOTS, 'overview-light.png'), fullPage: true });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: path.join(SHOTS, 'overview-dark.png'), fullPage: true });
  await page.emulateMedia({ colorScheme: 'light' });
});

test('revoking the key on the page refuses the SDK', async () => {
  await page.getByRole('button', { name: 'Revoke team-a' }).click();
  await confirm();
  await until(
    'the key row to go',
    async () => (await page.locator('[data-key-name="team-a"]').count()) === 0,
  );
  await assert.rejects(ask(), (err: unknown) => err instanceof OpenAI.AuthenticationError);
});

test('the page made no request off the machine and raised no error', () => {
  assert.deepEqual(offMachine, []);
  assert.deepEqual(pageErrors, []);
});
