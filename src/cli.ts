// Command-line parsing (§1.16). Touches no file and no environment variable: `--help` and
// `--version` must work on a broken install (G-CLI-3/4).

import pkg from '../package.json' with { type: 'json' };

/** `--config PATH` / `--providers PATH` (G-CFG-2a); absent when not given. */
export interface CliPaths {
  readonly configPath?: string;
  readonly providersPath?: string;
}

export type CliCommand =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'validate' }
  | { readonly kind: 'print-metadata-blocklist' }
  | { readonly kind: 'serve' }
  | { readonly kind: 'unknown'; readonly arg: string };

export type CliResult = CliCommand & CliPaths;

const COMMANDS: Readonly<Record<string, CliCommand['kind']>> = {
  '--help': 'help',
  '-h': 'help',
  '--version': 'version',
  '-V': 'version',
  '--validate': 'validate',
  '--print-metadata-blocklist': 'print-metadata-blocklist',
};

type PathOption = { key: keyof CliPaths; value: string | undefined; consumed: number };

/** `--config PATH`, `--config=PATH` (and the same for `--providers`) at `args[i]`, else undefined. */
function pathOption(args: readonly string[], i: number): PathOption | undefined {
  const arg = args[i]!;
  for (const [flag, key] of [
    ['--config', 'configPath'],
    ['--providers', 'providersPath'],
  ] as const) {
    if (arg === flag) return { key, value: args[i + 1], consumed: 2 };
    if (arg.startsWith(`${flag}=`)) return { key, value: arg.slice(flag.length + 1), consumed: 1 };
  }
  return undefined;
}

/**
 * Only the first argument that is not a path option is inspected (G-CLI-1); anything after a
 * recognised command is ignored except further `--config` / `--providers` options, so both
 * `busbar --config x.yaml --validate` and `busbar --validate --config x.yaml` work.
 */
export function parseCli(argv: readonly string[]): CliResult {
  const paths: { configPath?: string; providersPath?: string } = {};
  let command: CliCommand | undefined;
  for (let i = 0; i < argv.length; ) {
    const opt = pathOption(argv, i);
    if (opt !== undefined) {
      if (opt.value === undefined || opt.value === '') {
        // A path option without its path: nothing sensible to run.
        if (command === undefined) return { kind: 'unknown', arg: argv[i]!, ...paths };
      } else {
        paths[opt.key] = opt.value;
      }
      i += opt.consumed;
      continue;
    }
    if (command === undefined) {
      const arg = argv[i]!;
      const kind = COMMANDS[arg];
      if (kind === undefined) return { kind: 'unknown', arg, ...paths };
      command = { kind } as CliCommand;
    }
    i += 1;
  }
  return { ...(command ?? { kind: 'serve' }), ...paths };
}

/** The package version. */
export function version(): string {
  return pkg.version;
}

/** `busbar <version>` from package.json (G-CLI-3). */
export function versionLine(): string {
  return `busbar ${pkg.version}`;
}

export const USAGE = `busbar ${pkg.version} — LLM gateway: six wire protocols in, six out

Usage:
  busbar                              start the gateway
  busbar --help | -h                  print this help and exit
  busbar --version | -V               print the version and exit
  busbar --print-metadata-blocklist   print the effective cloud-metadata denylist and exit
  busbar --validate                   load and check the configuration, print warnings, exit 0 if valid

Options (accepted before or after the forms above):
  --config PATH      deployment file; default: $BUSBAR_CONFIG, ./config.yaml, /etc/busbar/config.yaml,
                     else the embedded default (127.0.0.1:8080, demo model, models for set provider keys)
  --providers PATH   provider catalog; default: $BUSBAR_PROVIDERS, ./providers.yaml,
                     /etc/busbar/providers.yaml, else the catalog shipped with busbar

Environment:
  BUSBAR_CONFIG      deployment file path                     (default /etc/busbar/config.yaml)
  BUSBAR_PROVIDERS   provider catalog path                    (default /etc/busbar/providers.yaml)
  BUSBAR_LOG         log level: error|warn|info|debug|trace   (default info; falls back to RUST_LOG)
  OTEL_SERVICE_NAME  service.name of exported spans           (default busbar)
  OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental     newest GenAI span attribute names
  \${NAME} in either file is replaced by the variable NAME; each provider's api_key_env names its key.

Endpoints:
  GET   /healthz                                       readiness
  GET   /stats                                         lanes, pools and breakers as JSON
  GET   /metrics                                       Prometheus metrics
`;
