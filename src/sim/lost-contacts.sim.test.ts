import { describe, expect, it } from 'vitest';
import type { CounterName } from '../core/counters.js';
import { bucketIndex, compareDistance } from '../core/id.js';
import type { DhtNode } from '../core/node/dht-node.js';
import { Swarm } from './swarm.js';

/** The `n` live nodes closest to `node` (itself left out). */
const nearest = (swarm: Swarm, node: DhtNode, n: number): DhtNode[] =>
  swarm
    .alive()
    .filter((o) => o !== node)
    .sort((a, b) => compareDistance(node.self, a.self, b.self))
    .slice(0, n);

/** Ids `asker` would hand out in a FIND_NODE answer for `target`. */
const handedOut = (asker: DhtNode, target: Uint8Array): string[] =>
  asker.table.closest(target, asker.k).map((c) => c.idHex);

/** `node` holds `other` as a live contact, or waiting in a replacement cache to become one. */
const holdsAlive = (node: DhtNode, other: DhtNode): boolean =>
  (node.table.has(other.selfHex) && node.table.contact(other.selfHex)?.lost !== true) ||
  node.table.replacements(bucketIndex(node.self, other.self)).some((c) => c.idHex === other.selfHex);

describe('contacts whose channel closed (a seeded 80-node swarm)', () => {
  it('a departed node is no longer handed out by anyone who saw it go; a paused node gets its siblings back within a minute of waking', async () => {
    const swarm = new Swarm({ seed: 77 });
    await swarm.grow(80, 40);
    await swarm.run(60_000);

    // Departure: the tab closes, its neighbours see the channels close.
    const leaver = swarm.pick();
    const sawItGo = swarm.alive().filter((n) => n.neighbours.has(leaver.selfHex));
    expect(sawItGo.length).toBeGreaterThan(3);
    // One of them has heard of every node (as wide lookups would tell it), so stand-ins wait
    // in the leaver's bucket there: the departure replaces the leaver at once instead of
    // keeping it as lost.
    const sameBucket = (n: DhtNode): number =>
      swarm.alive().filter((o) => o !== n && bucketIndex(n.self, o.self) === bucketIndex(n.self, leaver.self)).length;
    const crowded = sawItGo.find((n) => sameBucket(n) > n.k);
    if (crowded === undefined) throw new Error('no observer with a crowded bucket for the leaver');
    for (const o of swarm.alive()) if (o !== crowded) crowded.contacts.learn(o.self, false);
    swarm.fail(leaver, false);
    await swarm.run(20_000);
    for (const n of sawItGo) {
      expect(n.neighbours.has(leaver.selfHex)).toBe(false);
      expect(handedOut(n, leaver.self)).not.toContain(leaver.selfHex);
    }
    // Probes to it went unanswered and nothing revived it.
    const counters = (name: CounterName): number => sawItGo.reduce((sum, n) => sum + (n.counters.get(name) ?? 0), 0);
    expect(counters('contacts.probeUnanswered')).toBeGreaterThanOrEqual(
      sawItGo.filter((n) => n.table.contact(leaver.selfHex)?.lost === true).length,
    );
    // A peer that has not noticed names it in an answer: hearsay brings it back nowhere,
    // whether it was kept as lost or replaced at once by a cached contact.
    expect(crowded.table.has(leaver.selfHex)).toBe(false);
    for (const n of sawItGo) n.contacts.learn(leaver.self, false);
    expect(sawItGo.filter((n) => holdsAlive(n, leaver)).map((n) => n.selfHex)).toEqual([]);
    // Still hidden minutes later: others naming it in their answers do not revive it.
    await swarm.run(5 * 60_000);
    expect(sawItGo.filter((n) => handedOut(n, leaver.self).includes(leaver.selfHex))).toEqual([]);
    // Nodes that only knew it as a contact find out by asking: two lookups near it that it
    // leaves unanswered, and they stop handing it out too.
    const knewIt = swarm.alive().filter((n) => handedOut(n, leaver.self).includes(leaver.selfHex));
    expect(knewIt.length).toBeGreaterThan(0);
    for (const n of knewIt) {
      for (let i = 0; i < 2; i++) await swarm.settle(n.findNode(leaver.self));
      expect(handedOut(n, leaver.self)).not.toContain(leaver.selfHex);
    }

    // A pause long enough for every neighbour to declare the sleeper dead and close its channel.
    const sleeper = swarm.pick();
    const siblings = nearest(swarm, sleeper, 3);
    expect(siblings.every((s) => s.neighbours.has(sleeper.selfHex))).toBe(true);
    swarm.pause(sleeper);
    await swarm.run(3 * 60_000);
    expect(siblings.some((s) => s.neighbours.has(sleeper.selfHex))).toBe(false);
    swarm.resume(sleeper);
    await swarm.run(60_000);
    // Its closest nodes know it and have a channel to it again, long before any redial cooldown ends.
    for (const s of siblings) {
      expect(s.table.contact(sleeper.selfHex)?.lost).not.toBe(true);
      expect(s.neighbours.has(sleeper.selfHex)).toBe(true);
    }
    expect(sleeper.counters.get('contacts.revived') ?? 0).toBeGreaterThan(0);
    const found = await swarm.settle(nearest(swarm, sleeper, 40).at(-1)!.findNode(sleeper.self));
    expect(found.closest).toContain(sleeper.selfHex);
  });
});
