import { describe, expect, it } from 'vitest';
import { ErrorCode, MeshError } from '../core/errors.js';
import { PendingRequests } from '../core/routing/requests.js';
import { seededRandom } from '../core/environment.js';
import { EventQueue } from './event-queue.js';
import { NodeClock } from './node-clock.js';

describe('NodeClock.fireAfter', () => {
  it("calls the target's fire() at its time, waits while the node is paused, and a cancelled one never", async () => {
    const queue = new EventQueue(0);
    const clock = new NodeClock(queue);
    const fired: string[] = [];
    const target = (name: string) => ({ fire: () => fired.push(`${name}@${queue.now()}`) });
    clock.fireAfter(10, target('a'));
    const b = clock.fireAfter(10, target('b'));
    clock.fireAfter(20, target('c'));
    b.cancel();
    await queue.runUntil(15);
    expect(fired).toEqual(['a@10']);
    clock.pause();
    await queue.runUntil(30);
    expect(fired).toEqual(['a@10']);
    clock.resume();
    expect(fired).toEqual(['a@10', 'c@30']);
    expect(queue.processed).toBe(2);
  });

  it('times requests out through it as through setTimer: same failure, same first-hop outcome, nothing after a reply', async () => {
    const queue = new EventQueue(0);
    const clock = new NodeClock(queue);
    const outcomes: string[] = [];
    const requests = new PendingRequests(clock, seededRandom(1), (hop, through) => outcomes.push(`${hop}:${through}`));
    const failures: MeshError[] = [];
    const replies: number[] = [];
    requests.expect(
      1,
      100,
      () => replies.push(1),
      (e) => failures.push(e),
    );
    requests.leftThrough(1, 'n1', true);
    requests.expect(
      2,
      100,
      () => replies.push(2),
      (e) => failures.push(e),
    );
    requests.leftThrough(2, 'n2', true);
    expect(
      requests.settle(2, { type: 'PONG', body: { rid: 2 } }, { hops: 1, from: new Uint8Array(32), path: [] }),
    ).toBe(true);
    await queue.runUntil(1_000);
    expect(replies).toEqual([2]);
    expect(failures.map((e) => e.code)).toEqual([ErrorCode.TIMEOUT]);
    expect(failures[0]!.message).toBe('no reply within 100 ms');
    expect(outcomes).toEqual(['n2:true', 'n1:false']);
    expect(requests.size).toBe(0);
    // The settled request's timer was cancelled: only the other's timeout ran.
    expect(queue.processed).toBe(1);
  });
});
