// `busbar --help`: the usage text, then every protocol's endpoints as the protocol declares them.

import { USAGE } from './cli.ts';
import { PROTOCOLS } from './protocols/names.ts';
import { ROUTES } from './protocols/registry.ts';

export function helpText(): string {
  const endpoints = PROTOCOLS.flatMap((p) => ROUTES[p].endpoints).map(
    ([path, what]) => `  POST  ${path.padEnd(47)}${what}\n`,
  );
  return USAGE + endpoints.join('');
}
