import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COUNTER_FAMILIES, COUNTER_INDEX, COUNTER_NAMES, FIXED_COUNTERS, messageCounter } from './counters.js';
import { DhtNode } from './node/dht-node.js';
import { identityFromSecretKey } from './identity.js';
import { MessageType, type MessageName } from './wire/messages.js';

/** The backticked names in README's stats() table, where `prefix.<...>` stands for a family. */
function documented(): { names: Set<string>; families: Set<string> } {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('### stats()');
  const section = readme.slice(start, readme.indexOf('\n## ', start));
  const rows = section.split('\n').filter((line) => line.startsWith('| `'));
  const tokens = rows.flatMap((row) => [...row.split(' | ')[0]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
  return {
    names: new Set(tokens.filter((t) => !t.includes('<'))),
    families: new Set(tokens.filter((t) => t.includes('.<')).map((t) => t.slice(0, t.indexOf('.<')))),
  };
}

const idle = (): DhtNode =>
  new DhtNode({
    identity: identityFromSecretKey(new Uint8Array(32).fill(7)),
    transport: { send: () => true, connect: () => undefined, disconnect: () => undefined },
    clock: { now: () => 0, setTimer: () => () => undefined },
    random: { next: () => 0.5, bytes: (n) => new Uint8Array(n) },
  });

describe('the counter list', () => {
  it('names each counter once, and has a per-type counter both ways for every wire message', () => {
    expect(new Set(COUNTER_NAMES).size).toBe(COUNTER_NAMES.length);
    for (const type of Object.keys(MessageType) as MessageName[]) {
      expect(COUNTER_NAMES).toContain(messageCounter('in', type));
      expect(COUNTER_NAMES).toContain(messageCounter('out', type));
      expect(COUNTER_NAMES).toContain(messageCounter('routedIn', type));
    }
    COUNTER_NAMES.forEach((name, i) => expect(COUNTER_INDEX.get(name)).toBe(i));
  });

  it('every counter is in the README stats() table (a family as `prefix.<...>`), and every row names real ones', () => {
    const { names, families } = documented();
    for (const name of FIXED_COUNTERS) expect(names.has(name), name).toBe(true);
    for (const family of COUNTER_FAMILIES) expect(families.has(family), `${family}.<...>`).toBe(true);
    for (const name of COUNTER_NAMES)
      expect(names.has(name) || COUNTER_FAMILIES.some((f) => name.startsWith(`${f}.`)), name).toBe(true);
  });

  it("a node's stats() holds every counter at zero before anything happened, and every key it reports is documented", () => {
    const stats = idle().stats();
    for (const name of COUNTER_NAMES) expect(stats[name], name).toBe(0);
    const { names, families } = documented();
    for (const key of Object.keys(stats))
      expect(names.has(key) || [...families].some((f) => key.startsWith(`${f}.`)), key).toBe(true);
  });
});
