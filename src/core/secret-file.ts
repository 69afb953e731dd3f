import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * A secret kept in the data folder for development mode (no JWT_SECRET, no CREDENTIAL_KEY_SECRET):
 * read when the file exists, else created (mode 0600). Two processes starting together agree: the one
 * that loses the exclusive create reads the winner's file.
 */
export function dataDirSecret(dataDir: string, name: string): { secret: string; created: boolean } {
  const file = path.join(dataDir, name);
  if (fs.existsSync(file)) return { secret: fs.readFileSync(file, 'utf8').trim(), created: false };
  fs.mkdirSync(dataDir, { recursive: true });
  const secret = crypto.randomBytes(48).toString('base64url');
  try {
    fs.writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return { secret: fs.readFileSync(file, 'utf8').trim(), created: false };
  }
  return { secret, created: true };
}
