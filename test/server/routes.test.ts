import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Protocol } from '../../src/protocols/names.ts';
import { matchRoute, type Route } from '../../src/server/routes.ts';

type Inference = Extract<Route, { kind: 'inference' }>;

function inference(
  protocol: Protocol,
  fields: Partial<Omit<Inference, 'kind' | 'protocol'>> = {},
): Inference {
  return {
    kind: 'inference',
    protocol,
    operation: 'chat',
    pathName: undefined,
    adhoc: false,
    routeStream: undefined,
    framing: undefined,
    ...fields,
  };
}

const notFound = (protocol: Protocol): Route => ({ kind: 'not_found', protocol });
const notAllowed = (protocol: Protocol, allow = 'POST'): Route => ({
  kind: 'method_not_allowed',
  protocol,
  allow,
});

function route(path: string, method = 'POST', query = ''): Route {
  return matchRoute(method, path, query);
}

describe('matchRoute: body-model paths', () => {
  const cases: [string, Protocol][] = [
    ['/v1/chat/completions', 'openai'],
    ['/v1/responses', 'responses'],
    ['/v2/chat', 'cohere'],
    ['/v1/messages', 'anthropic'],
  ];
  for (const [path, protocol] of cases) {
    it(`${path} is ${protocol}; the model comes from the body`, () => {
      assert.deepEqual(route(path), inference(protocol));
      assert.deepEqual(route(path, 'POST', 'x=1'), inference(protocol));
    });
    it(`${path} refuses other methods in ${protocol}'s shape`, () => {
      for (const method of ['GET', 'PUT', 'DELETE', 'OPTIONS']) {
        assert.deepEqual(route(path, method), notAllowed(protocol));
      }
    });
  }
});

describe('matchRoute: Gemini', () => {
  it('names the model in the path under /v1beta/models/ and /v1/models/', () => {
    assert.deepEqual(
      route('/v1beta/models/gemini-2.5-flash:generateContent'),
      inference('gemini', { pathName: 'gemini-2.5-flash', routeStream: false }),
    );
    assert.deepEqual(
      route('/v1/models/gemini-2.5-flash:generateContent'),
      inference('gemini', { pathName: 'gemini-2.5-flash', routeStream: false }),
    );
  });

  it('streams on streamGenerateContent, with SSE framing only for alt=sse', () => {
    const path = '/v1beta/models/m:streamGenerateContent';
    assert.deepEqual(
      route(path),
      inference('gemini', { pathName: 'm', routeStream: true, framing: 'array' }),
    );
    for (const query of ['alt=sse', 'key=k&alt=sse', 'alt=sse&key=k', 'a=1&alt=sse&b=2']) {
      assert.deepEqual(
        route(path, 'POST', query),
        inference('gemini', { pathName: 'm', routeStream: true, framing: 'sse' }),
        query,
      );
    }
    for (const query of ['alt=json', 'alt=ssex', 'xalt=sse', 'alt=SSE', 'alt%3Dsse']) {
      assert.deepEqual(
        route(path, 'POST', query),
        inference('gemini', { pathName: 'm', routeStream: true, framing: 'array' }),
        query,
      );
    }
    // alt=sse means nothing without streaming.
    assert.deepEqual(
      route('/v1beta/models/m:generateContent', 'POST', 'alt=sse'),
      inference('gemini', { pathName: 'm', routeStream: false }),
    );
  });

  it('percent-decodes the model and keeps slashes and colons before the last colon', () => {
    assert.deepEqual(
      route('/v1beta/models/my%20model:generateContent'),
      inference('gemini', { pathName: 'my model', routeStream: false }),
    );
    assert.deepEqual(
      route('/v1beta/models/tuned/abc:generateContent'),
      inference('gemini', { pathName: 'tuned/abc', routeStream: false }),
    );
    assert.deepEqual(
      route('/v1beta/models/a:b:streamGenerateContent'),
      inference('gemini', { pathName: 'a:b', routeStream: true, framing: 'array' }),
    );
  });

  it('answers unknown paths of its family as Gemini not found', () => {
    for (const path of [
      '/v1beta/models/',
      '/v1beta/models/m',
      '/v1beta/models/:generateContent',
      '/v1beta/models/m:countTokens',
      '/v1beta/models/m:generateContent/',
      '/v1beta/tunedModels/m:generateContent',
      '/v1beta/files',
      '/v1beta/',
      '/v1/models/m',
      '/v1/models/m:predict',
      '/v1beta/models/%zz:generateContent',
    ]) {
      assert.deepEqual(route(path), notFound('gemini'), path);
    }
  });

  it('serves the model list on GET /v1beta/models and GET /v1/models only', () => {
    assert.equal(route('/v1beta/models', 'GET').kind, 'models');
    assert.equal(route('/v1/models', 'GET').kind, 'models');
    assert.deepEqual(route('/v1beta/models'), {
      kind: 'method_not_allowed',
      protocol: 'gemini',
      allow: 'GET',
    });
    assert.deepEqual(route('/v1/models'), { kind: 'method_not_allowed', protocol: 'openai', allow: 'GET' });
  });

  it('refuses other methods on a valid path, but an unknown path is not found first', () => {
    assert.deepEqual(route('/v1beta/models/m:generateContent', 'GET'), notAllowed('gemini'));
    assert.deepEqual(route('/v1/models/m:streamGenerateContent', 'PUT', 'alt=sse'), notAllowed('gemini'));
    assert.deepEqual(route('/v1beta/models/m', 'GET'), notFound('gemini'));
    assert.deepEqual(route('/v1beta/models/%zz:generateContent', 'GET'), notFound('gemini'));
  });
});

describe('matchRoute: Bedrock', () => {
  it('names the model in the path; converse-stream streams', () => {
    assert.deepEqual(
      route('/model/anthropic.claude-3-5-haiku-20241022-v1:0/converse'),
      inference('bedrock', { pathName: 'anthropic.claude-3-5-haiku-20241022-v1:0', routeStream: false }),
    );
    assert.deepEqual(
      route('/model/m/converse-stream'),
      inference('bedrock', { pathName: 'm', routeStream: true }),
    );
    // Framing is fixed (event stream): alt=sse does not apply.
    assert.deepEqual(
      route('/model/m/converse-stream', 'POST', 'alt=sse'),
      inference('bedrock', { pathName: 'm', routeStream: true }),
    );
  });

  it('percent-decodes the model (an ARN carries its slashes encoded)', () => {
    assert.deepEqual(
      route('/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fus.m/converse'),
      inference('bedrock', {
        pathName: 'arn:aws:bedrock:us-east-1:1:inference-profile/us.m',
        routeStream: false,
      }),
    );
  });

  it('answers unknown paths of its family as Bedrock not found', () => {
    for (const path of [
      '/model/',
      '/model/m',
      '/model/m/',
      '/model//converse',
      '/model/m/converse/',
      '/model/a/b/converse',
      '/model/m/converse-streamx',
      '/model/%E0%A4%A/converse',
    ]) {
      assert.deepEqual(route(path), notFound('bedrock'), path);
    }
  });

  it('refuses other methods on a valid path', () => {
    assert.deepEqual(route('/model/m/converse', 'GET'), notAllowed('bedrock'));
    assert.deepEqual(route('/model/m/converse-stream', 'DELETE'), notAllowed('bedrock'));
    assert.deepEqual(route('/model/m/other', 'GET'), notFound('bedrock'));
  });
});

describe('matchRoute: ad-hoc Anthropic Messages route', () => {
  it('reads {provider}/{model} or a target name before /v1/messages', () => {
    assert.deepEqual(
      route('/anthropic/claude-sonnet-4-5/v1/messages'),
      inference('anthropic', { pathName: 'anthropic/claude-sonnet-4-5', adhoc: true }),
    );
    assert.deepEqual(route('/demo/v1/messages'), inference('anthropic', { pathName: 'demo', adhoc: true }));
    assert.deepEqual(
      route('/z.ai/glm%204.6/v1/messages'),
      inference('anthropic', { pathName: 'z.ai/glm 4.6', adhoc: true }),
    );
  });

  it('is not found with an empty or malformed name, and refuses other methods', () => {
    assert.deepEqual(route('//v1/messages'), notFound('anthropic'));
    assert.deepEqual(route('/%zz/v1/messages'), notFound('anthropic'));
    assert.deepEqual(route('/m/v1/messages', 'GET'), notAllowed('anthropic'));
    assert.deepEqual(route('/%zz/v1/messages', 'GET'), notFound('anthropic'));
  });
});

describe('matchRoute: unknown paths take the error shape of the family they fall in', () => {
  const cases: [string, Protocol][] = [
    ['/v2/embed/', 'cohere'],
    ['/v2/', 'cohere'],
    ['/v2/chat/', 'cohere'],
    ['/v1/responses/resp_1', 'responses'],
    ['/v1/responses/resp_1/cancel', 'responses'],
    ['/v1/responsesx', 'responses'],
    ['/v1/messages/count_tokens', 'openai'],
    ['/v1/messages/', 'openai'],
    ['/v1/chat/completions/', 'openai'],
    ['/v1/completions', 'openai'],
    ['/v1/embeddings/x', 'openai'],
    ['/v2', 'openai'],
    ['/v1beta', 'openai'],
    ['/model', 'openai'],
    ['/', 'openai'],
    ['', 'openai'],
    ['/healthz/', 'openai'],
    ['/adminx', 'openai'],
    ['*', 'openai'],
  ];
  for (const [path, protocol] of cases) {
    it(`${JSON.stringify(path)} → ${protocol}`, () => {
      assert.deepEqual(route(path), notFound(protocol));
      assert.deepEqual(route(path, 'GET'), notFound(protocol));
    });
  }

  it('a protocol prefix wins over the Messages suffix', () => {
    assert.deepEqual(route('/v1beta/models/m/v1/messages'), notFound('gemini'));
    assert.deepEqual(route('/model/m/v1/messages'), notFound('bedrock'));
    assert.deepEqual(route('/v2/x/v1/messages'), notFound('cohere'));
    assert.deepEqual(route('/v1/responses/v1/messages'), notFound('responses'));
  });
});

describe("matchRoute: the gateway's own paths", () => {
  it('serves healthz, stats and metrics on GET only', () => {
    for (const kind of ['healthz', 'stats', 'metrics'] as const) {
      assert.deepEqual(route(`/${kind}`, 'GET'), { kind });
      assert.deepEqual(route(`/${kind}`, 'GET', 'token=t'), { kind });
      assert.deepEqual(route(`/${kind}`, 'POST'), notAllowed('openai', 'GET'));
      assert.deepEqual(route(`/${kind}`, 'HEAD'), notAllowed('openai', 'GET'));
    }
  });

  it('hands every /admin path to the admin API whatever the method', () => {
    for (const path of ['/admin', '/admin/', '/admin/keys', '/admin/keys/k1/v1/messages']) {
      for (const method of ['GET', 'POST', 'DELETE']) {
        assert.deepEqual(route(path, method), { kind: 'admin', path });
      }
    }
  });
});

describe('unserved versions of a protocol', () => {
  it('Cohere v1 chat belongs to Cohere and names the v2 route', () => {
    const r = route('/v1/chat');
    assert.equal(r.kind, 'not_found');
    assert.equal(r.kind === 'not_found' && r.protocol, 'cohere');
    assert.match(r.kind === 'not_found' ? (r.hint ?? '') : '', /POST \/v2\/chat/);
  });
});

describe('matchRoute: embeddings and rerank', () => {
  it('serves the body-model embedding and rerank paths as their operation', () => {
    assert.deepEqual(
      route('/v1/embeddings'),
      inference('openai', { operation: 'embedding', routeStream: false }),
    );
    assert.deepEqual(route('/v2/embed'), inference('cohere', { operation: 'embedding', routeStream: false }));
    assert.deepEqual(route('/v2/rerank'), inference('cohere', { operation: 'rerank', routeStream: false }));
    assert.deepEqual(route('/v1/embeddings', 'GET'), notAllowed('openai'));
  });

  it('reads Gemini embedContent (single) and batchEmbedContents from the path', () => {
    assert.deepEqual(
      route('/v1beta/models/text-embedding-004:embedContent'),
      inference('gemini', {
        operation: 'embedding',
        pathName: 'text-embedding-004',
        routeStream: false,
        framing: 'single',
      }),
    );
    assert.deepEqual(
      route('/v1beta/models/a%2Fb:batchEmbedContents'),
      inference('gemini', { operation: 'embedding', pathName: 'a/b', routeStream: false }),
    );
    assert.deepEqual(route('/v1beta/models/:batchEmbedContents'), notFound('gemini'));
  });

  it('serves Bedrock InvokeModel as embeddings', () => {
    assert.deepEqual(
      route('/model/amazon.titan-embed-text-v2%3A0/invoke'),
      inference('bedrock', {
        operation: 'embedding',
        pathName: 'amazon.titan-embed-text-v2:0',
        routeStream: false,
      }),
    );
    assert.deepEqual(route('/model/x/invoke-with-response-stream'), notFound('bedrock'));
  });
});
