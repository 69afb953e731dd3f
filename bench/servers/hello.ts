/**
 * B_hello: an empty Fastify route on the same Fastify version as accredit — the framework ceiling on
 * this machine. No logger, no hooks, no plugins. PORT from the environment, 127.0.0.1 only.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/hello', async () => ({ hello: 'world' }));
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
await app.listen({ port: Number(process.env.PORT ?? 3001), host: '127.0.0.1' });
