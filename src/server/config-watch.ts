// Reload on a change to the config or provider file. Each file's directory is watched, not the
// file: editors save by writing a new file and renaming it over the old one, which ends a watch
// on the file itself. Changes within DEBOUNCE_MS are one reload (an editor's save is several
// events).

import path from 'node:path';
import { fs } from '../builtins.ts';
import { line } from '../log.ts';

const DEBOUNCE_MS = 300;

/** Calls `changed` (debounced) whenever one of `files` is written, created or replaced; returns a stop. */
export function watchConfigFiles(files: readonly string[], changed: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const fire = (): void => {
    clearTimeout(timer);
    timer = setTimeout(changed, DEBOUNCE_MS);
    timer.unref();
  };
  const byDir = new Map<string, Set<string>>();
  for (const file of files) {
    const dir = path.dirname(file);
    if (!byDir.has(dir)) byDir.set(dir, new Set());
    byDir.get(dir)!.add(path.basename(file));
  }
  const watchers: { close(): void }[] = [];
  for (const [dir, names] of byDir) {
    try {
      const watcher = fs.watch(dir, { persistent: false }, (_event, name) => {
        // Some platforms report no name: any change in the directory may be ours. Kubernetes
        // swaps a ConfigMap's files by renaming its `..data` link, not the files themselves.
        if (name === null || names.has(String(name)) || String(name).startsWith('..')) fire();
      });
      watcher.on('error', (err) =>
        line('warn', `stopped watching ${dir} for config changes: ${err.message}`),
      );
      watchers.push(watcher);
    } catch (err) {
      line(
        'warn',
        `cannot watch ${dir} for config changes (reload with SIGHUP or the admin API): ${String(err)}`,
      );
    }
  }
  return () => {
    clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
