import { createRequire } from 'node:module';

/**
 * The package's version. Read from package.json when running from dist/; the bundles (scripts/bundle.mjs)
 * replace this module with the literal, so that the single executable, which has no package.json beside it,
 * knows it too.
 */
export const version: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
