import { readFileSync } from 'node:fs';

/**
 * The release: package.json's version (semver; CHANGELOG.md says what each one changes). Read at run
 * time from the package root, one folder above this module — src/ under tsx, dist/ once built or
 * bundled — so that the number lives in one place.
 */
export const RELEASE: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
