/**
 * B_min: the least a server can do for accredit's GET by id — the same primary-key read
 * (`select data from certifications where tenant_id = ? and id = ?`) with the same driver
 * (better-sqlite3 with accredit's pragmas and a prepared statement, or a pg.Pool of PG_POOL_MAX
 * connections with an unnamed statement, like Kysely), no auth, no validation, no projection: the
 * stored JSON is sent as it is. DATABASE_URL and PORT from the environment, 127.0.0.1 only.
 */
import Fastify from 'fastify';
import Database from 'better-sqlite3';
import pg from 'pg';

const url = process.env.DATABASE_URL ?? '';
const app = Fastify({ logger: false });
let close = async () => {};

if (url.startsWith('sqlite:')) {
  const db = new Database(url.slice('sqlite:'.length));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  const stmt = db.prepare('select data from certifications where tenant_id = ? and id = ?');
  app.get<{ Params: { tenantId: string; id: string } }>('/certifications/:tenantId/:id', async (req, reply) => {
    const row = stmt.get(req.params.tenantId, req.params.id) as { data: string } | undefined;
    if (!row) return reply.code(404).send({ statusCode: 404 });
    return reply.type('application/json; charset=utf-8').send(row.data);
  });
  close = async () => {
    db.close();
  };
} else {
  const pool = new pg.Pool({ connectionString: url, max: Number(process.env.PG_POOL_MAX ?? 10) });
  app.get<{ Params: { tenantId: string; id: string } }>('/certifications/:tenantId/:id', async (req, reply) => {
    const { rows } = await pool.query('select data from certifications where tenant_id = $1 and id = $2', [
      req.params.tenantId,
      req.params.id,
    ]);
    if (!rows.length) return reply.code(404).send({ statusCode: 404 });
    return rows[0].data; // jsonb arrives parsed; Fastify stringifies it
  });
  close = () => pool.end();
}

process.on(
  'SIGTERM',
  () =>
    void app
      .close()
      .then(close)
      .then(() => process.exit(0)),
);
await app.listen({ port: Number(process.env.PORT ?? 3002), host: '127.0.0.1' });
