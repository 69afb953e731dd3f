import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromiumPlan, ensureChromium } from '../../scripts/lib/chromium.mjs';

/**
 * `npm test` on a fresh machine (scripts/test.mjs): it provides Debian's Chromium for the browser test
 * where it can and otherwise stops at once with the command to run. Tried here with a fake PATH and a
 * fake apt-get (nothing is installed), and a Chromium path that does not exist.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'accredit-test-command-'));
const missing = path.join(dir, 'no-chromium');
const fakeBin = (name: string, body: string) => {
  const d = fs.mkdtempSync(path.join(dir, 'bin-'));
  fs.writeFileSync(path.join(d, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return d;
};
const withApt = fakeBin('apt-get', 'exit 0');
const empty = fs.mkdtempSync(path.join(dir, 'empty-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('Chromium present: nothing to do', () => {
  const chromium = path.join(fakeBin('chromium', 'exit 0'), 'chromium');
  assert.equal(chromiumPlan({ env: { PATH: empty }, root: false, target: chromium }).action, 'ok');
});

test('missing, as root with apt-get on PATH: install it with that apt-get', () => {
  const plan = chromiumPlan({ env: { PATH: `${empty}${path.delimiter}${withApt}` }, root: true, target: missing });
  assert.deepEqual(plan, { action: 'install', target: missing, aptGet: path.join(withApt, 'apt-get') });
});

test('missing and not root: stop with the sudo command', () => {
  const plan = chromiumPlan({ env: { PATH: withApt }, root: false, target: missing });
  assert.equal(plan.action, 'stop');
  assert.match(plan.action === 'stop' ? plan.message : '', /Run: sudo apt-get install -y chromium$/);
});

test('missing and no apt-get on PATH: stop, naming CHROMIUM_PATH', () => {
  const plan = chromiumPlan({ env: { PATH: empty }, root: true, target: missing });
  assert.equal(plan.action, 'stop');
  assert.match(plan.action === 'stop' ? plan.message : '', /Run: CHROMIUM_PATH=\/path\/to\/chromium npm test/);
});

test('a CHROMIUM_PATH that is no executable: stop, install nothing', () => {
  const plan = chromiumPlan({ env: { PATH: withApt, CHROMIUM_PATH: missing }, root: true });
  assert.equal(plan.action, 'stop');
  assert.match(plan.action === 'stop' ? plan.message : '', /CHROMIUM_PATH is .*no-chromium, which is not an executable/);
});

test('the install runs apt-get update, then install chromium, non-interactively; a failure names the command', () => {
  const log = path.join(dir, 'apt.log');
  const target = path.join(dir, 'installed-chromium');
  const apt = fakeBin(
    'apt-get',
    `echo "$DEBIAN_FRONTEND $*" >> "${log}"\n[ "$1" = install ] && printf '#!/bin/sh\\n' > "${target}" && /bin/chmod +x "${target}"\nexit 0`,
  );
  const said: string[] = [];
  assert.equal(
    ensureChromium({ env: { PATH: apt }, root: true, target }, (s) => said.push(s)),
    undefined,
  );
  assert.equal(fs.readFileSync(log, 'utf8'), 'noninteractive update -qq\nnoninteractive install -y -qq chromium\n');
  assert.match(said.join(''), /installing Debian's chromium/);
  const failing = fakeBin('apt-get', 'exit 100');
  assert.match(
    ensureChromium({ env: { PATH: failing }, root: true, target: missing }, () => {}) ?? '',
    /Installing chromium failed\. Run: apt-get update && apt-get install -y chromium/,
  );
});

test('scripts/test.mjs stops at once, before any test runs: no Chromium, or no file matching', () => {
  const noChromium = spawnSync(process.execPath, ['scripts/test.mjs', 'browser'], {
    env: { ...process.env, CHROMIUM_PATH: missing },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(noChromium.status, 1, noChromium.stdout + noChromium.stderr);
  assert.match(noChromium.stderr, /CHROMIUM_PATH is .*not an executable/);
  assert.doesNotMatch(noChromium.stdout, /accredit tests on/);
  const none = spawnSync(process.execPath, ['scripts/test.mjs', 'no-such-test-file'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(none.status, 1, none.stdout + none.stderr);
  assert.match(none.stderr, /no test file .* matches no-such-test-file/);
});
