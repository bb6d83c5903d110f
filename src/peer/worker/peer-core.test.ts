import { describe, expect, it } from 'vitest';
import { seededRandom, type Transport } from '../../core/environment.js';
import { ErrorCode } from '../../core/errors.js';
import { createIdentity } from '../../core/identity.js';
import { METADATA_RULE } from '../../core/records/metadata.js';
import { PeerCore } from './peer-core.js';

const nowhere: Transport = { send: () => false, connect: () => undefined, disconnect: () => undefined };
const lonelyCore = (): PeerCore => new PeerCore({
  identity: createIdentity(seededRandom(3).bytes), transport: nowhere, random: seededRandom(4),
  clock: { now: () => 1_700_000_000_000, setTimer: () => () => undefined },
});

describe('PeerCore.advertise: metadata', () => {
  it('refuses nested metadata with INVALID_ARGUMENT naming the rule, and keeps nothing of it', async () => {
    const core = lonelyCore();
    for (const metadata of [{ a: { b: 1 } }, { list: [1, 2] }, Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i]))]) {
      await expect(core.advertise('meta.svc', { metadata })).rejects.toMatchObject({
        code: ErrorCode.INVALID_ARGUMENT, details: { argument: 'metadata' }, message: expect.stringContaining(METADATA_RULE),
      });
    }
    expect(core.listLocalServices()).toEqual([]);
    expect(core.localAdvertisements()).toEqual([]);
    expect(core.node.records.size).toBe(0);
    await core.advertise('meta.svc', { metadata: { unit: 'W', watts: 12 } });
    expect((await core.discover('meta.svc')).map((p) => p.metadata)).toEqual([{ unit: 'W', watts: 12 }]);
  });
});
