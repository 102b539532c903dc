// `observability:` (§1.10, G-OBS-31/32/41). A sink URL that fails its guard is an `[error]` line and
// that sink stays off; startup continues, as the reference does. OTLP credentials in the URL's
// userinfo become a Basic Authorization header and never appear in a logged URL.

import { resolve } from 'node:path';
import { checkSinkUrl, maskUrlUserinfo } from '../net/ssrf.ts';
import type { RawObservability } from './raw.ts';
import type { Emit } from './resolve.ts';
import type { ObservabilityConfig } from './types.ts';

export function resolveObservability(
  raw: RawObservability | undefined,
  cwd: string,
  emit: Emit,
): ObservabilityConfig {
  return {
    otlp: raw?.otlpEndpoint === undefined ? undefined : otlpTarget(raw.otlpEndpoint, emit),
    requestLogWebhookUrl:
      raw?.requestLogWebhookUrl === undefined ? undefined : webhookUrl(raw.requestLogWebhookUrl, emit),
    requestLogFile: raw?.requestLogFile === undefined ? undefined : resolve(cwd, raw.requestLogFile),
    responseHeaders: raw?.responseHeaders ?? false,
  };
}

function otlpTarget(text: string, emit: Emit): ObservabilityConfig['otlp'] {
  const problem = checkSinkUrl(text, { allowLoopbackHttp: true });
  if (problem !== undefined) {
    emit('error', `observability.otlp_endpoint '${maskUrlUserinfo(text)}': ${problem}; trace export is off`);
    return undefined;
  }
  const url = new URL(text.trim());
  let authorization: string | undefined;
  if (url.username !== '' || url.password !== '') {
    const user = decodeURIComponent(url.username);
    const pass = decodeURIComponent(url.password);
    authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  return { url: url.toString(), authorization };
}

function webhookUrl(text: string, emit: Emit): string | undefined {
  const problem = checkSinkUrl(text, { allowLoopbackHttp: false });
  if (problem === undefined) return text.trim();
  emit(
    'error',
    `observability.request_log_webhook_url '${maskUrlUserinfo(text)}': ${problem}; the request-log webhook is off`,
  );
  return undefined;
}
