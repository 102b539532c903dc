import assert from 'node:assert/strict';
import { it } from 'node:test';
import { mintId, randomBase62 } from '../../src/protocols/ids.ts';

it('G-SEC-52 base62 ids are unbiased across the alphabet', () => {
  const counts = new Map<string, number>();
  const sample = randomBase62(62 * 2000);
  for (const ch of sample) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  assert.equal(counts.size, 62);
  // Each symbol expects 2000; a biased mapping (b % 62 without rejection) gives the first 8 ~+25 %.
  for (const [ch, n] of counts) assert.ok(n > 1700 && n < 2300, `${ch}: ${n}`);
  assert.match(mintId('msg_'), /^msg_[A-Za-z0-9]{24}$/);
  assert.notEqual(mintId('x'), mintId('x'));
});
