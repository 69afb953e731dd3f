// The production entry point: src/main.ts and its dependencies bundled by esbuild into one ES module
// (dist/accredit.mjs). Loading one file instead of ~2,000 modules halves the start-up time.
// Kept outside the bundle: better-sqlite3 (native), pg-native (optional), @fastify/swagger-ui (serves
// its static files from its own folder), pdfkit (reads its fonts' metrics from its own folder) and mathjs (loaded on first use). Usage: node scripts/bundle.mjs [outfile]
import { build } from 'esbuild';

const outfile = process.argv[2] ?? 'dist/accredit.mjs';
await build({
  entryPoints: ['src/main.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile,
  external: ['better-sqlite3', 'pg-native', '@fastify/swagger-ui', 'pdfkit', 'mathjs'],
  // CommonJS dependencies call require() for Node's built-ins
  banner: { js: "import { createRequire as __accreditRequire } from 'node:module'; const require = __accreditRequire(import.meta.url);" },
  logLevel: 'warning',
  legalComments: 'none',
});
