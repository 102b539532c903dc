import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractCredential, TokenSet } from '../../src/auth/credentials.ts';

describe('client credentials', () => {
  it('G-SEC-3 a token matches any listed entry and nothing else', () => {
    const set = new TokenSet(['alpha-token', 'beta', '']);
    assert.equal(set.check('alpha-token'), true);
    assert.equal(set.check('beta'), true);
    assert.equal(set.check('alpha-tokem'), false);
    assert.equal(set.check('alpha'), false);
    assert.equal(set.check('alpha-token-and-more'), false);
    assert.equal(set.check(undefined), false);
    assert.equal(new TokenSet([]).check('anything'), false);
  });

  it('G-SEC-2 carriers in order: Bearer, x-api-key, x-goog-api-key, ?key=', () => {
    assert.equal(extractCredential({ authorization: 'Bearer a', 'x-api-key': 'b' }, ''), 'a');
    assert.equal(extractCredential({ authorization: 'bearer  a ' }, ''), 'a');
    assert.equal(extractCredential({ authorization: 'Basic zzz', 'x-api-key': 'b' }, ''), 'b');
    assert.equal(
      extractCredential({ authorization: 'AWS4-HMAC-SHA256 Credential=x', 'x-goog-api-key': 'g' }, ''),
      'g',
    );
    assert.equal(extractCredential({ authorization: 'Bearer ' }, 'key=q'), 'q');
    assert.equal(extractCredential({ 'x-api-key': '  ' }, ''), undefined);
  });
});
