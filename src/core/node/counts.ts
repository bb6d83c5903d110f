import { COUNTER_INDEX, COUNTER_NAMES, type CounterName } from '../counters.js';

/**
 * Each counter's place in the nodes' counts (Counts below), given the first time any node in
 * this process counts it; -1 while none has. Of the 278 counters a simulated node uses some
 * 40, and all the nodes of a swarm together some 70: an array of every counter per node was
 * 2.2 KB of a simulated node, most of it zeros (BENCHMARKS.md, Simulator memory).
 */
const slotOf = new Int16Array(COUNTER_NAMES.length).fill(-1);
let slotsGiven = 0;

/** Slots added beyond the one needed when a node's counts grow: a node takes up new counters a few at a time. */
const GROWTH = 16;
const NONE = new Float64Array(0);

/** One node's counts by counter (counters.ts): a count is an array write, in a slot given at first use. */
export class Counts {
  /** By slot; grown on a count in a slot past its end. Starts as a shared empty array, never written to. */
  private values: Float64Array = NONE;

  add(name: CounterName, by: number): void {
    const index = COUNTER_INDEX.get(name);
    if (index === undefined) return;
    let slot = slotOf[index]!;
    if (slot < 0) slot = slotOf[index] = slotsGiven++;
    if (slot >= this.values.length) this.grow(slot);
    this.values[slot]! += by;
  }

  /** The count of the counter at `index` in COUNTER_NAMES (0 when never counted here). */
  at(index: number): number {
    const slot = slotOf[index]!;
    return slot < 0 || slot >= this.values.length ? 0 : this.values[slot]!;
  }

  get(name: CounterName): number {
    const index = COUNTER_INDEX.get(name);
    return index === undefined ? 0 : this.at(index);
  }

  private grow(slot: number): void {
    const values = new Float64Array(Math.min(COUNTER_NAMES.length, Math.max(slot + 1, slotsGiven + GROWTH)));
    values.set(this.values);
    this.values = values;
  }
}
