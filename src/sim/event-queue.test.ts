import { describe, expect, it } from 'vitest';
import { seededRandom } from '../core/environment.js';
import { EventQueue } from './event-queue.js';

describe('EventQueue', () => {
  it('runs events by time, then in the order they were scheduled, as one heap of (time, insertion) would', async () => {
    const queue = new EventQueue(0);
    const random = seededRandom(7);
    const ran: number[] = [];
    const expected: Array<{ at: number; seq: number }> = [];
    let seq = 0;
    // Some events schedule more, at their own time (a zero timer) or later; a few are cancelled.
    const add = (delay: number, depth: number): void => {
      const me = seq++;
      const at = queue.now() + Math.ceil(delay);
      const cancel = queue.setTimer(delay, () => {
        ran.push(me);
        if (depth < 2) for (let i = 0; i < 3; i++) add(Math.floor(random.next() * 4) * 5, depth + 1);
      });
      if (random.next() < 0.1) cancel();
      else expected.push({ at, seq: me });
    };
    for (let i = 0; i < 200; i++) add(Math.floor(random.next() * 20) * 5, 0);
    await queue.runUntil(Infinity);
    // Every event scheduled for later than the one running sorts after it, so the reference
    // order is the sort of everything that ran by (time, scheduling order).
    const order = [...expected].sort((a, b) => a.at - b.at || a.seq - b.seq).map((e) => e.seq);
    expect(ran.length).toBeGreaterThan(200);
    expect(ran).toEqual(order);
    expect(queue.processed).toBe(ran.length);
    expect(queue.size).toBe(0);
  });

  it('runs an event scheduled for an earlier time before the rest of the current time', async () => {
    const queue = new EventQueue(100);
    const ran: string[] = [];
    queue.setTimer(10, () => {
      ran.push('a');
      queue.at(105, () => ran.push('earlier'));
    });
    queue.setTimer(10, () => ran.push('b'));
    queue.setTimer(20, () => ran.push('c'));
    await queue.runUntil(150);
    expect(ran).toEqual(['a', 'earlier', 'b', 'c']);
    expect(queue.now()).toBe(150);
  });

  it('stops at `until`, leaving later events (and cancelled ones) counted in size', async () => {
    const queue = new EventQueue(0);
    queue.setTimer(5, () => undefined);
    const cancel = queue.setTimer(5, () => undefined);
    cancel();
    queue.setTimer(50, () => undefined);
    expect(queue.size).toBe(3);
    expect(queue.peekTime()).toBe(5);
    await queue.runFor(10);
    expect(queue.processed).toBe(1);
    expect(queue.size).toBe(1);
    expect(queue.peekTime()).toBe(50);
    expect(queue.now()).toBe(10);
  });

  it('takes a cancelled event out of its slot at once, leaving the order and counts of the rest as they were', async () => {
    const queue = new EventQueue(0);
    const ran: string[] = [];
    const slots = (queue as unknown as { slots: Map<number, { events: object[] }> }).slots;
    queue.setTimer(5, () => ran.push('a'));
    const cancelB = queue.setTimer(5, () => ran.push('b'));
    const cancelC = queue.setTimer(5, () => ran.push('c'));
    queue.setTimer(5, () => ran.push('d'));
    const events = slots.get(5)!.events;
    const [, b, c] = events;
    cancelB();
    cancelC();
    // Their places hold one shared stand-in, not the events themselves (nor what they captured).
    expect(events[1]).toBe(events[2]);
    expect(events.includes(b!) || events.includes(c!)).toBe(false);
    expect(queue.size).toBe(4);
    cancelB();
    await queue.runFor(10);
    expect(ran).toEqual(['a', 'd']);
    expect(queue.processed).toBe(2);
    expect(queue.size).toBe(0);
  });

  it('leaves an event that has already run alone when it is cancelled late', async () => {
    const queue = new EventQueue(0);
    const ran: string[] = [];
    let cancelFirst = (): void => undefined;
    cancelFirst = queue.setTimer(5, () => {
      ran.push('a');
      // Cancelled while its own slot still runs: the next event in the slot must still run.
      cancelFirst();
    });
    queue.setTimer(5, () => ran.push('b'));
    await queue.runFor(10);
    expect(ran).toEqual(['a', 'b']);
    expect(queue.processed).toBe(2);
  });
});
