/**
 * Lookup events name a 256-bit key; an app wants to know what it looked for. The worker
 * notes the keys of the names the app's own calls look up (a service, a topic) and labels
 * each event with them; any other lookup is the node's own upkeep (its join, bucket
 * refreshes, sibling exchanges, neighbour tests).
 */
import { keyForName, toHex } from '../../core/id.js';
import type { LookupProgress } from '../../core/lookup/lookup.js';
import { publishKeys, subscriptionKey } from '../../core/registry/topics.js';

export type LookupSubject =
  /** advertise, unadvertise, discover, call */
  | { kind: 'service'; name: string }
  /** subscribe and unsubscribe (the pattern), publish and discoverSubscribers (the topic) */
  | { kind: 'topic'; name: string }
  | { kind: 'maintenance' };

/** A lookup's progress, with what it looks for. */
export type LookupEvent = LookupProgress & { subject: LookupSubject };

/** Names remembered; the oldest are forgotten first (a lookup runs a minute at most). */
const MAX_NAMES = 512;

export class LookupSubjects {
  private readonly byKey = new Map<string, LookupSubject>();

  service(name: string): void {
    this.note(toHex(keyForName(name)), { kind: 'service', name });
  }

  subscription(pattern: string): void {
    this.note(toHex(subscriptionKey(pattern)), { kind: 'topic', name: pattern });
  }

  /** A publish looks at the topic's exact key and at every wildcard prefix key. */
  publication(topic: string): void {
    for (const key of publishKeys(topic)) this.note(toHex(key), { kind: 'topic', name: topic });
  }

  label(progress: LookupProgress): LookupEvent {
    return { ...progress, subject: this.byKey.get(progress.target) ?? { kind: 'maintenance' } };
  }

  private note(key: string, subject: LookupSubject): void {
    this.byKey.delete(key);
    this.byKey.set(key, subject);
    if (this.byKey.size > MAX_NAMES) this.byKey.delete(this.byKey.keys().next().value!);
  }
}
