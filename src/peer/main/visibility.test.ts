import { afterEach, describe, expect, it } from 'vitest';
import { forwardVisibility } from './visibility.js';

/** A stand-in for `document`: an event target whose visibilityState the test sets. */
class FakeDocument extends EventTarget {
  visibilityState: 'visible' | 'hidden' = 'visible';
  set(state: 'visible' | 'hidden'): void {
    this.visibilityState = state;
    this.dispatchEvent(new Event('visibilitychange'));
  }
}

const global = globalThis as { document?: unknown };

afterEach(() => {
  delete global.document;
});

describe('forwardVisibility', () => {
  it('says the state at once and on every change, never the same twice in a row', () => {
    const doc = new FakeDocument();
    global.document = doc;
    const said: boolean[] = [];
    const stop = forwardVisibility((hidden) => said.push(hidden));
    expect(said).toEqual([false]);
    doc.set('hidden');
    doc.set('hidden');
    doc.set('visible');
    expect(said).toEqual([false, true, false]);
    stop();
    doc.set('hidden');
    expect(said).toEqual([false, true, false]);
  });

  it('says nothing where there is no document', () => {
    const said: boolean[] = [];
    const stop = forwardVisibility((hidden) => said.push(hidden));
    expect(said).toEqual([]);
    stop();
  });
});
