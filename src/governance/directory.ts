// The in-memory key directory the request path authenticates against (G-GOV-6): secret hash →
// key, AWS access key id → credential. Replaced whole after every admin change, never edited in
// place, so a request sees either the old set or the new one.

import type { AwsCredential, VirtualKey } from './keys.ts';

/** Everything a directory is built from; also what crosses to worker processes. */
export interface KeySnapshot {
  readonly keys: readonly VirtualKey[];
  readonly aws: readonly AwsCredential[];
}

export class KeyDirectory {
  #byHash = new Map<string, VirtualKey>();
  #byId = new Map<string, VirtualKey>();
  #aws = new Map<string, AwsCredential>();

  constructor(snapshot: KeySnapshot = { keys: [], aws: [] }) {
    this.replace(snapshot);
  }

  replace(snapshot: KeySnapshot): void {
    const byHash = new Map<string, VirtualKey>();
    const byId = new Map<string, VirtualKey>();
    for (const key of snapshot.keys) {
      byHash.set(key.hash, key);
      byId.set(key.id, key);
    }
    const aws = new Map<string, AwsCredential>();
    for (const c of snapshot.aws) aws.set(c.accessKeyId, c);
    this.#byHash = byHash;
    this.#byId = byId;
    this.#aws = aws;
  }

  /** The enabled key with this secret hash. */
  byHash(hash: string): VirtualKey | undefined {
    const key = this.#byHash.get(hash);
    return key?.enabled ? key : undefined;
  }

  /** Any key by id, enabled or not. */
  byId(id: string): VirtualKey | undefined {
    return this.#byId.get(id);
  }

  /** The enabled key an AWS access key id belongs to, with its secret. */
  aws(accessKeyId: string): { key: VirtualKey; secret: string } | undefined {
    const cred = this.#aws.get(accessKeyId);
    if (cred === undefined) return undefined;
    const key = this.#byId.get(cred.keyId);
    return key?.enabled ? { key, secret: cred.secretAccessKey } : undefined;
  }

  /** Every key, enabled or not, in store order. */
  all(): IterableIterator<VirtualKey> {
    return this.#byId.values();
  }

  snapshot(): KeySnapshot {
    return { keys: [...this.#byId.values()], aws: [...this.#aws.values()] };
  }
}
