// The browser tests drive Debian's Chromium (never a downloaded browser). `npm test` provides it where
// it can (running as root where apt-get is on PATH: it installs Debian's chromium, as .ci/run does)
// and otherwise stops at once with the one command to run.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

const executable = (file) => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** The first executable `name` on the PATH of `env`, or undefined. */
export const onPath = (name, env) =>
  (env.PATH ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, name))
    .find(executable);

/**
 * What to do about Chromium: `ok`, `install` (with the apt-get to run) or `stop` (with the message,
 * naming the one command to run). `target` is CHROMIUM_PATH when set (then nothing is installed:
 * the path was chosen by hand), else Debian's /usr/bin/chromium.
 */
export function chromiumPlan({ env = process.env, root = process.getuid?.() === 0, target = env.CHROMIUM_PATH ?? DEFAULT_CHROMIUM } = {}) {
  if (executable(target)) return { action: 'ok', target };
  if (env.CHROMIUM_PATH) {
    return {
      action: 'stop',
      target,
      message: `CHROMIUM_PATH is ${target}, which is not an executable. Point it at a Chromium binary, or unset it and run: apt-get install -y chromium`,
    };
  }
  const aptGet = onPath('apt-get', env);
  if (aptGet && root) return { action: 'install', target, aptGet };
  const command = aptGet
    ? 'sudo apt-get install -y chromium'
    : 'CHROMIUM_PATH=/path/to/chromium npm test (no apt-get here: install Chromium with your package manager)';
  return { action: 'stop', target, message: `The browser tests need Chromium at ${target}. Run: ${command}` };
}

/** Follows the plan: returns undefined when Chromium is there (installed now if need be), else why not and what to run. */
export function ensureChromium(opts = {}, log = (s) => process.stdout.write(s)) {
  const plan = chromiumPlan(opts);
  if (plan.action === 'ok') return undefined;
  if (plan.action === 'stop') return plan.message;
  log("Chromium is missing: installing Debian's chromium (apt-get) for the browser tests\n");
  const env = { ...(opts.env ?? process.env), DEBIAN_FRONTEND: 'noninteractive' };
  const ok = [
    ['update', '-qq'],
    ['install', '-y', '-qq', 'chromium'],
  ].every((args) => spawnSync(plan.aptGet, args, { stdio: ['ignore', 'ignore', 'inherit'], env }).status === 0);
  if (ok && executable(plan.target)) return undefined;
  return `Installing chromium failed. Run: apt-get update && apt-get install -y chromium`;
}
