import { expect, test, type Page } from '@playwright/test';
import { openPeer, stat } from './peers.js';

const DAY = 86_400_000;
const nodeDatabases = (page: Page): Promise<string[]> =>
  page.evaluate(async () =>
    (await indexedDB.databases())
      .map((d) => d.name ?? '')
      .filter((n) => n.startsWith('macula-web/node/'))
      .sort(),
  );

test("a new tab removes the database of a tab closed long ago, and keeps a live tab's and a recently closed one's", async ({
  browser,
}) => {
  const context = await browser.newContext();
  const live = await openPeer(context, 'storage=indexeddb');
  const closedLongAgo = await openPeer(context, 'storage=indexeddb');
  const closedRecently = await openPeer(context, 'storage=indexeddb');
  const ids = [live, closedLongAgo, closedRecently].map((p) => `macula-web/node/${p.nodeId}`);
  await expect.poll(() => nodeDatabases(live.page)).toEqual([...ids].sort());
  await closedLongAgo.page.close();
  await closedRecently.page.close();
  // What weeks of use leave behind: the live tab's stamp and one closed tab's are old.
  await live.page.evaluate(({ stamps }) => localStorage.setItem('macula-web/databases/v1', JSON.stringify(stamps)), {
    stamps: {
      [live.nodeId]: Date.now() - 30 * DAY,
      [closedLongAgo.nodeId]: Date.now() - 8 * DAY,
      [closedRecently.nodeId]: Date.now() - DAY,
    },
  });

  const newcomer = await openPeer(context, 'storage=memory');
  await expect.poll(() => nodeDatabases(newcomer.page)).toEqual([ids[0]!, ids[2]!].sort());
  expect(await stat(newcomer, 'storage.abandonedRemoved')).toBe(1);
  // The live tab still runs on its database, and its stamp was renewed by the sweep.
  await live.page.evaluate(() => window.peer!.advertise('sweep.still.here', () => 1));
  const stamps = await live.page.evaluate(
    () => JSON.parse(localStorage.getItem('macula-web/databases/v1') ?? '{}') as Record<string, number>,
  );
  expect(Date.now() - stamps[live.nodeId]!).toBeLessThan(DAY);
  expect(stamps[closedLongAgo.nodeId]).toBeUndefined();
  for (const p of [live, newcomer]) expect(p.errors).toEqual([]);
  await context.close();
});
