import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { onBothEngines } from './engines.ts';
import { spaceRecord, T0 } from './records.ts';

/** The hosts' captions toggles (`space_captions`, migration 9) on SQLite and, where AMPHI_TEST_PG=1, PostgreSQL. */
onBothEngines('captions choices', (_engine, open) => {
  test('none until chosen; the last choice per Space wins; each Space its own', { timeout: 30_000 }, async () => {
    const opened = await open();
    const { store } = opened;
    try {
      const hostId = `ac_${randomUUID().slice(0, 8)}`;
      assert.ok(await store.createAccount({ id: hostId, handle: `h${hostId.slice(3)}`, createdAt: T0, passwordHash: 'x' }));
      for (const id of ['sp_cap_a', 'sp_cap_b']) await store.createSpace(spaceRecord(id, hostId, { state: 'live' }));
      const choices = store.captionsChoices();
      assert.equal(await choices.chosen('sp_cap_a'), undefined, 'never chosen');
      await choices.choose('sp_cap_a', true, T0);
      assert.equal(await choices.chosen('sp_cap_a'), true);
      assert.equal(await choices.chosen('sp_cap_b'), undefined, 'another Space is not touched');
      await choices.choose('sp_cap_a', false, T0 + 1000);
      assert.equal(await choices.chosen('sp_cap_a'), false, 'turned off again: the row is updated, not duplicated');
      await choices.choose('sp_cap_b', true, T0 + 2000);
      assert.deepEqual([await choices.chosen('sp_cap_a'), await choices.chosen('sp_cap_b')], [false, true]);
    } finally {
      await opened.close();
    }
  });
});
