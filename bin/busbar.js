#!/usr/bin/env node
// Installed entry point. The V8 compile cache keeps cold start short: the TypeScript sources are
// stripped and compiled once, then loaded from the cache on later starts.
import module from 'node:module';

module.enableCompileCache?.();
await import('../src/main.ts');
