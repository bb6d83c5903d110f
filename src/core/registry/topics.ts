import { invalidArgument } from '../errors.js';
import { keyForName, type NodeId } from '../id.js';

/**
 * Topics are dot-separated segments; in a subscription pattern `*` matches exactly one
 * segment and `**` zero or more.
 *
 * Keying wildcard subscriptions so publishers find them (macula's were invisible to the
 * DHT): an exact subscription is stored at SHA-256(topic), as macula does; a pattern is
 * stored at SHA-256("wildcard:" + its literal prefix), the segments before its first
 * wildcard (`sensors.*.temp` and `sensors.**` both live under prefix `sensors`). A
 * publisher of a topic of n segments therefore looks up the exact key plus the n
 * wildcard keys of the prefixes of length 0..n-1 and keeps the patterns that match
 * (a pattern whose prefix is the whole topic can only match it through `**`, so prefix
 * length n is looked up too). The cost: n + 2 value lookups per publish on a cache miss
 * (cached for 5 s like macula's gateway cache); topics are limited to MAX_SEGMENTS.
 */
export const MAX_SEGMENTS = 16;
const SEGMENT_RE = /^[A-Za-z0-9_\-:@+]+$/;

export function checkTopic(topic: unknown): asserts topic is string {
  if (typeof topic !== 'string' || topic.length === 0 || topic.length > 256) {
    throw invalidArgument('topic', 'a non-empty string of at most 256 characters', topic);
  }
  const segments = topic.split('.');
  if (segments.length > MAX_SEGMENTS || !segments.every((s) => SEGMENT_RE.test(s))) {
    throw invalidArgument(
      'topic',
      `1-${MAX_SEGMENTS} dot-separated segments of letters, digits, _ - : @ + (no wildcards)`,
      topic,
    );
  }
}

export function checkPattern(pattern: unknown): asserts pattern is string {
  if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > 256) {
    throw invalidArgument('topic', 'a non-empty string of at most 256 characters', pattern);
  }
  const segments = pattern.split('.');
  if (segments.length > MAX_SEGMENTS || !segments.every((s) => s === '*' || s === '**' || SEGMENT_RE.test(s))) {
    throw invalidArgument('topic', `1-${MAX_SEGMENTS} dot-separated segments, each a name, * or **`, pattern);
  }
}

export const isWildcard = (pattern: string): boolean => pattern.split('.').some((s) => s === '*' || s === '**');

/** The DHT key a subscription to `pattern` is stored under. */
export function subscriptionKey(pattern: string): NodeId {
  if (!isWildcard(pattern)) return keyForName(pattern);
  const segments = pattern.split('.');
  const firstWild = segments.findIndex((s) => s === '*' || s === '**');
  return wildcardKey(segments.slice(0, firstWild).join('.'));
}

const wildcardKey = (prefix: string): NodeId => keyForName(`wildcard:${prefix}`);

/** Every key a publisher of `topic` must look at: the exact key, then one per prefix length 0..n. */
export function publishKeys(topic: string): NodeId[] {
  const segments = topic.split('.');
  const keys = [keyForName(topic)];
  for (let n = 0; n <= segments.length; n++) keys.push(wildcardKey(segments.slice(0, n).join('.')));
  return keys;
}

/** Does `pattern` match `topic`? */
export function matches(pattern: string, topic: string): boolean {
  return matchFrom(pattern.split('.'), 0, topic.split('.'), 0);
}

function matchFrom(p: string[], i: number, t: string[], j: number): boolean {
  for (;;) {
    if (i === p.length) return j === t.length;
    const seg = p[i]!;
    if (seg === '**') {
      // Zero or more segments: try every split point (patterns are short, so this stays cheap).
      for (let skip = j; skip <= t.length; skip++) if (matchFrom(p, i + 1, t, skip)) return true;
      return false;
    }
    if (j === t.length) return false;
    if (seg !== '*' && seg !== t[j]) return false;
    i++;
    j++;
  }
}
