import { describe, expect, it } from 'vitest';
import { seededRandom } from '../environment.js';
import { keyForName } from '../id.js';
import { createIdentity } from '../identity.js';
import { OwnerProofs } from './owner-proofs.js';
import { RecordStore } from './record-store.js';
import { signRecord, trustSignatures, type SignedRecord } from './records.js';

const [alice, bob] = [1, 2].map((i) => createIdentity(seededRandom(300 + i).bytes)) as [
  ReturnType<typeof createIdentity>,
  ReturnType<typeof createIdentity>,
];
const NOW = 1_700_000_000_000;

const rec = (who: typeof alice, name: string): SignedRecord =>
  signRecord(
    { kind: 'provider', key: keyForName(name), endpoint: 'e', metadata: {}, advertisedAt: NOW, ttl: 300 },
    who,
  );

describe('OwnerProofs', () => {
  it('hashes each owner once, and only a pair it hashed itself counts as proven', () => {
    const proofs = new OwnerProofs();
    for (let i = 0; i < 5; i++) expect(proofs.owns(alice.publicKey, alice.nodeId)).toBe(true);
    expect(proofs.owns(bob.publicKey, bob.nodeId)).toBe(true);
    expect(proofs.hashed).toBe(2);
    // Alice's id with Bob's key: not the proven pair, so hashed again and refused.
    expect(proofs.owns(bob.publicKey, alice.nodeId)).toBe(false);
    expect(proofs.owns(alice.publicKey, bob.nodeId)).toBe(false);
    expect(proofs.hashed).toBe(4);
  });

  it('keeps its own copy of a proven key, so changing the caller array proves nothing', () => {
    const proofs = new OwnerProofs();
    const key = new Uint8Array(alice.publicKey);
    expect(proofs.owns(key, alice.nodeId)).toBe(true);
    key.set(bob.publicKey);
    expect(proofs.owns(key, alice.nodeId)).toBe(false);
  });
});

describe('RecordStore.load with owner proofs', () => {
  it("drops a record that names a proven owner's id with another key, and keeps the rest", () => {
    const source = new RecordStore({ verify: () => true });
    source.put(rec(alice, 'a'), NOW);
    source.put(rec(bob, 'b'), NOW);
    source.put(rec(alice, 'c'), NOW);
    const snapshot = source.toJSON(NOW);
    // A corrupt entry after Alice is proven: her node id, Bob's public key.
    const forged = { ...rec(bob, 'd'), nodeId: alice.nodeId };
    snapshot.entries.push({ record: forged, expiresAt: NOW + 60_000 });
    const target = new RecordStore({ verify: () => false });
    expect(target.load(snapshot, NOW, trustSignatures)).toBe(3);
    expect(target.get(keyForName('d'), 'provider', NOW)).toEqual([]);
    expect(target.get(keyForName('c'), 'provider', NOW).length).toBe(1);
  });

  it("shares one copy of each owner's key and id among its records, none of them the snapshot's", () => {
    const source = new RecordStore({ verify: () => true });
    source.put(rec(alice, 'a'), NOW);
    source.put(rec(alice, 'b'), NOW);
    const snapshot = source.toJSON(NOW);
    const target = new RecordStore({ verify: () => false });
    expect(target.load(snapshot, NOW, trustSignatures)).toBe(2);
    const [a] = target.get(keyForName('a'), 'provider', NOW);
    const [b] = target.get(keyForName('b'), 'provider', NOW);
    expect(a!.publicKey).toBe(b!.publicKey);
    expect(a!.nodeId).toBe(b!.nodeId);
    expect(a!.signature).not.toBe(b!.signature);
    for (const r of [a!, b!])
      for (const held of [r.publicKey, r.nodeId, r.key, r.signature])
        for (const given of snapshot.entries.flatMap((e) => [e.record.publicKey, e.record.nodeId, e.record.key]))
          expect(held).not.toBe(given);
    expect(a!.publicKey).toEqual(alice.publicKey);
  });
});
