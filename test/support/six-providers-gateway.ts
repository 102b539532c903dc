// The standard e2e fixture: a mock upstream for the six protocols and a gateway in front of it,
// started before the file's tests and stopped after them.

import { after, before } from 'node:test';
import { type Gateway, startGateway } from './gateway-process.ts';
import { type MockUpstream, startMockUpstream } from './mock-upstream.ts';
import { sixProvidersCatalog, sixProvidersConfig, sixProvidersEnv } from './six-providers.ts';

export interface SixProvidersGateway {
  readonly mock: MockUpstream;
  readonly gw: Gateway;
}

/** Registers the hooks; read `mock` and `gw` inside tests (they exist once `before` ran). */
export function useSixProvidersGateway(extraConfig = ''): SixProvidersGateway {
  let mock: MockUpstream | undefined;
  let gw: Gateway | undefined;
  before(async () => {
    mock = await startMockUpstream();
    gw = await startGateway({
      configYaml: sixProvidersConfig(extraConfig),
      providersYaml: sixProvidersCatalog(mock.url),
      env: sixProvidersEnv(),
    });
  });
  after(async () => {
    await gw?.stop();
    await mock?.close();
  });
  return {
    get mock() {
      return mock!;
    },
    get gw() {
      return gw!;
    },
  };
}
