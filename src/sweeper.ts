// Coarse per-request time bounds: one interval looks at every watched item every SWEEP_MS, instead
// of a timer object created and cancelled for each request on the hot path. An item is checked
// until it says it is done; the interval runs only while something is watched.

const SWEEP_MS = 100;

export interface Watched {
  /** Called every sweep with the wall clock in ms; true when the item no longer needs watching. */
  check(nowMs: number): boolean;
}

const watched = new Set<Watched>();
let interval: NodeJS.Timeout | undefined;

function sweep(): void {
  const now = Date.now();
  for (const item of watched) if (item.check(now)) watched.delete(item);
  if (watched.size === 0) {
    clearInterval(interval);
    interval = undefined;
  }
}

export function watch(item: Watched): void {
  watched.add(item);
  if (interval === undefined) {
    interval = setInterval(sweep, SWEEP_MS);
    interval.unref();
  }
}

export function unwatch(item: Watched): void {
  watched.delete(item);
}
