// A configuration loaded in process from deployment and catalog text, through the real loader (for
// tests that drive the routing table or the gateway without a child process).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadGatewayConfig } from '../../src/config/index.ts';
import type { GatewayConfig } from '../../src/config/types.ts';

export function loadConfigText(
  configText: string,
  catalogText: string,
  env: Record<string, string>,
): GatewayConfig {
  const dir = mkdtempSync(path.join(tmpdir(), 'busbar-config-'));
  try {
    writeFileSync(path.join(dir, 'config.yaml'), configText);
    writeFileSync(path.join(dir, 'providers.yaml'), catalogText);
    return loadGatewayConfig({
      validateOnly: false,
      configPath: path.join(dir, 'config.yaml'),
      providersPath: path.join(dir, 'providers.yaml'),
      env,
      cwd: dir,
      emit: () => {},
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
