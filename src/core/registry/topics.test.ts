import { describe, expect, it } from 'vitest';
import { toHex } from '../id.js';
import { checkPattern, checkTopic, matches, publishKeys, subscriptionKey } from './topics.js';

describe('topics', () => {
  it.each([
    ['sensors.kitchen.temp', 'sensors.kitchen.temp', true],
    ['sensors.*.temp', 'sensors.kitchen.temp', true],
    ['sensors.*.temp', 'sensors.kitchen.humidity', false],
    ['sensors.*', 'sensors.kitchen.temp', false],
    ['sensors.**', 'sensors.kitchen.temp', true],
    ['sensors.**', 'sensors', true],
    ['**', 'anything.at.all', true],
    ['**.temp', 'sensors.kitchen.temp', true],
    ['sensors.**.temp', 'sensors.temp', true],
    ['sensors.**.temp', 'sensors.a.b.c.temp', true],
    ['sensors.**.temp', 'sensors.a.b.c.hum', false],
    ['*.*', 'a', false],
    ['a.*.c.**', 'a.b.c', true],
    ['a.*.c.**', 'a.b.d', false],
  ])('%s matches %s: %s', (pattern, topic, expected) => {
    expect(matches(pattern, topic)).toBe(expected);
  });

  it('every matching pattern is stored under one of the keys the publisher looks at', () => {
    const topic = 'sensors.kitchen.temp';
    const keys = new Set(publishKeys(topic).map(toHex));
    for (const pattern of [
      'sensors.kitchen.temp',
      'sensors.*.temp',
      'sensors.**',
      '**',
      '*.kitchen.*',
      'sensors.kitchen.temp.**',
      'sensors.kitchen.*',
    ]) {
      expect(matches(pattern, topic)).toBe(true);
      expect(keys.has(toHex(subscriptionKey(pattern)))).toBe(true);
    }
    expect(publishKeys(topic)).toHaveLength(3 + 2);
  });

  it('exact subscriptions use SHA-256(topic), as macula does', () => {
    expect(toHex(subscriptionKey('a.b'))).toBe(toHex(publishKeys('a.b')[0]!));
  });

  it('validates topics and patterns with typed errors', () => {
    expect(() => checkTopic('a.b')).not.toThrow();
    expect(() => checkPattern('a.*.**')).not.toThrow();
    for (const bad of ['', 'a..b', 'a.*', 'a b', 'x'.repeat(300), 5]) {
      expect(() => checkTopic(bad)).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
    expect(() => checkPattern('a.***')).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => checkTopic(Array(17).fill('a').join('.'))).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});
