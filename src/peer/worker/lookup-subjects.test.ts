import { describe, expect, it } from 'vitest';
import { keyForName, toHex } from '../../core/id.js';
import type { LookupProgress } from '../../core/lookup/lookup.js';
import { publishKeys, subscriptionKey } from '../../core/registry/topics.js';
import { LookupSubjects } from './lookup-subjects.js';

const start = (target: string): LookupProgress => ({ kind: 'path-start', target, via: 'ab'.repeat(32) });
const hex = (name: string): string => toHex(keyForName(name));

describe('lookup events say what was looked up', () => {
  it('names the service, the subscription pattern and the published topic behind a key', () => {
    const subjects = new LookupSubjects();
    subjects.service('energy.home.get');
    subjects.subscription('sensors.*.temp');
    subjects.publication('alerts.kitchen.smoke');
    expect(subjects.label(start(hex('energy.home.get')))).toEqual({
      ...start(hex('energy.home.get')),
      subject: { kind: 'service', name: 'energy.home.get' },
    });
    expect(subjects.label(start(toHex(subscriptionKey('sensors.*.temp')))).subject).toEqual({
      kind: 'topic',
      name: 'sensors.*.temp',
    });
    // A publish looks at the exact key and every wildcard prefix key: all are named after the topic.
    for (const key of publishKeys('alerts.kitchen.smoke')) {
      expect(subjects.label(start(toHex(key))).subject).toEqual({ kind: 'topic', name: 'alerts.kitchen.smoke' });
    }
  });

  it('calls every other lookup maintenance, and forgets the oldest names past its bound', () => {
    const subjects = new LookupSubjects();
    expect(subjects.label(start('cd'.repeat(32))).subject).toEqual({ kind: 'maintenance' });
    subjects.service('first');
    for (let i = 0; i < 512; i++) subjects.service(`svc.${i}`);
    expect(subjects.label(start(hex('first'))).subject).toEqual({ kind: 'maintenance' });
    expect(subjects.label(start(hex('svc.511'))).subject).toEqual({ kind: 'service', name: 'svc.511' });
    // Noting a name again makes it the newest.
    subjects.service('svc.0');
    subjects.service('one.more');
    expect(subjects.label(start(hex('svc.0'))).subject).toEqual({ kind: 'service', name: 'svc.0' });
    expect(subjects.label(start(hex('svc.1'))).subject).toEqual({ kind: 'maintenance' });
  });
});
