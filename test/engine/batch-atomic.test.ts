import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../src/core/errors.js';
import { defineResource } from '../../src/resources/kit/define.js';
import { str, req } from '../../src/resources/kit/fields.js';
import { ResourceService } from '../../src/resources/kit/service.js';
import { syncTable, migrate } from '../../src/store/migrate.js';
import { openStore } from '../../src/store/store.js';
import { asTenant } from '../../src/store/tenant-scope.js';
import { tableSpecs } from '../../src/resources/index.js';
import { freshDatabase } from '../helpers.js';

/**
 * A batch operation that fails after its insert (here: a hook that refuses after the write) leaves
 * nothing behind, while the other operations of the batch are written: each runs in a savepoint.
 */
test('a batch operation that fails part-way leaves no half-written record', async () => {
  const db = await freshDatabase();
  const store = await openStore(db.url);
  try {
    await migrate(store, tableSpecs());
    const widgets = defineResource({
      slug: 'widgets',
      name: 'Widgets',
      singular: 'widget',
      typeName: 'Widget',
      table: 'widgets_batch_test',
      coverage: 'test',
      fields: { name: req(str()) },
      search: {},
      hooks: {
        async after(h) {
          if (h.next?.name === 'refused after the insert') throw new AppError('conflict', 'refused by the after hook');
        },
      },
    });
    await asTenant('*', () => store.transaction((trx) => syncTable(trx, store.dialect, widgets.table)));
    let service: ResourceService;
    service = new ResourceService(widgets, {
      store,
      clock: { now: () => new Date() },
      pageSizeDefault: 100,
      pageSizeMax: 1000,
      resolve: () => service,
    });
    const ctx = { tenantId: 'acme', actor: { sub: 't', tenants: ['acme'], scopes: new Set<string>() }, requestId: 'r' };
    const out = await asTenant('acme', () =>
      service.batch(ctx, {
        operations: [
          { operation: 'create', object: { name: 'first' } },
          { operation: 'create', object: { name: 'refused after the insert' } },
          { operation: 'create', object: { name: 'third' } },
        ],
      }),
    );
    assert.deepEqual([out.success_count, out.error_count], [2, 1]);
    assert.equal(out.results[1]!.status, 409);
    const rows = await asTenant('acme', () => service.table.page(store.db, 'acme', [], undefined, 100));
    assert.deepEqual(rows.map((r) => r.name).sort(), ['first', 'third']);
  } finally {
    await store.close();
    await db.drop();
  }
});
