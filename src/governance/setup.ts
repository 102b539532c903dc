// Turns `governance:` into the pieces the gateway plugs in: the authenticator, the guard stage, the
// finish listener and the authority the admin API talks to. The database opens before the port is
// bound, so a bad db_path is a startup error, not a failing first request.

import cluster from 'node:cluster';
import type { Authenticator } from '../auth/principal.ts';
import type { FleetStores, GatewayConfig, GovernanceConfig } from '../config/types.ts';
import type { KeyFiguresSource } from '../observability/metrics.ts';
import { Governance } from './admission.ts';
import { Arbiter, type Authority } from './arbiter.ts';
import { governedAuthenticator } from './authenticate.ts';
import type { KeyDirectory } from './directory.ts';
import { GovernanceStore } from './store.ts';
import type { StoreHealth } from './store-health.ts';

export interface GovernanceParts {
  readonly authenticator: Authenticator;
  readonly governance: Governance;
  readonly authority: Authority;
  readonly config: GovernanceConfig;
  /** The per-key metric figures, where the arbiter runs in this process. */
  readonly keyFigures: KeyFiguresSource | undefined;
  /** The shared stores' health, where governance runs on them (for /metrics). */
  readonly stores: readonly StoreHealth[];
  /** The guard for a reloaded config (pools, prices of models), over the same authority. */
  rebuild(config: GatewayConfig): Governance;
  /**
   * On shared stores, config reloads reach every replica: `reload` runs when another replica
   * announces one, and the returned function announces one made here. Undefined on one node.
   */
  shareReloads?(reload: () => void): Promise<() => void>;
  close(): void | Promise<void>;
}

/** Opens the store and builds the arbiter; throws a one-line message when the database cannot open. */
export function openArbiter(config: GovernanceConfig): { arbiter: Arbiter; store: GovernanceStore } {
  let store: GovernanceStore;
  try {
    store = new GovernanceStore(config.dbPath);
  } catch (err) {
    throw new Error(
      `cannot open the governance database at ${config.dbPath}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return { arbiter: new Arbiter(store, config.failOpen), store };
}

/**
 * Governance on the shared stores: every process (each replica, each worker) is its own client of
 * PostgreSQL and Redis, so no process arbitrates for another.
 */
export async function startFleetGovernance(
  config: GatewayConfig,
  gov: GovernanceConfig,
  stores: FleetStores,
): Promise<GovernanceParts> {
  const { FleetAuthority } = await import('./fleet.ts');
  // The primary of `workers: N` announces it; a worker starts quietly.
  const fleet = await FleetAuthority.start(stores, gov.failOpen, !cluster.isWorker);
  const parts = assemble(config, gov, fleet, fleet.directory, () => fleet.shutdown());
  return {
    ...parts,
    keyFigures: fleet,
    stores: [fleet.postgres, fleet.redis],
    shareReloads: async (reload) => {
      await fleet.shareReloads(reload);
      return () => fleet.announceReload();
    },
  };
}

/** The lone process's governance: the arbiter in-process, authenticating against its directory. */
export function startGovernance(config: GatewayConfig, gov: GovernanceConfig): GovernanceParts {
  const { arbiter, store } = openArbiter(gov);
  const parts = assemble(config, gov, arbiter, arbiter.directory, () => {
    arbiter.flush();
    store.close();
  });
  return { ...parts, keyFigures: arbiter };
}

/** Governance over an authority that may live elsewhere, with a directory kept in step with it. */
export function assemble(
  config: GatewayConfig,
  gov: GovernanceConfig,
  authority: Authority,
  directory: KeyDirectory,
  close: () => void | Promise<void>,
): GovernanceParts {
  return {
    authenticator: governedAuthenticator(directory),
    governance: new Governance(authority, config, gov),
    authority,
    config: gov,
    keyFigures: undefined,
    stores: [],
    // Only prices may differ (config/reload.ts): the rest of `next.governance` is `gov`'s.
    rebuild: (next) => new Governance(authority, next, next.governance ?? gov),
    close,
  };
}
