// A whole answer's model and stop reason for traces (codec.answerFacts) are read without converting
// its content, and must say exactly what the full reader says (each codec's reader uses the same
// stop-reason function; the golden tests hold that function to the recorded answers): every
// recorded response fixture of every protocol is read both ways.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CODECS } from '../../src/protocols/codecs.ts';
import type { JsonValue } from '../../src/protocols/ir.ts';
import { PROTOCOLS } from '../../src/protocols/names.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures');

describe('answer facts agree with the full response reader', () => {
  for (const protocol of PROTOCOLS) {
    const dir = path.join(FIXTURES, protocol);
    const files = readdirSync(dir).filter((f) => /^response-.*(?<!\.golden)\.json$/.test(f));
    it(`${protocol}: ${files.length} response fixtures`, () => {
      assert.ok(files.length > 0);
      for (const file of files) {
        const body = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as JsonValue;
        const full = CODECS[protocol].readResponse(body);
        assert.deepEqual(
          CODECS[protocol].answerFacts(body),
          { model: full.model, stopReason: full.stopReason },
          file,
        );
      }
    });
  }
});
