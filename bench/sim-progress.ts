/**
 * Progress lines for long simulator runs: a 100,000-node scenario runs for hours, and a run
 * stopped early should still say how far it got and what it had measured. Each line gives
 * wall clock, the process's CPU, virtual time, events processed and the heap in use.
 */
import type { Swarm } from '../src/sim/swarm.js';

export class SimProgress {
  private readonly startedAt = performance.now();
  private readonly cpuAt = process.cpuUsage();
  private readonly virtualAt: number;

  constructor(
    private readonly label: string,
    private readonly swarm: Swarm,
  ) {
    this.virtualAt = swarm.now;
  }

  say(what: string): void {
    const wallS = (performance.now() - this.startedAt) / 1000;
    const cpu = process.cpuUsage(this.cpuAt);
    const cpuS = (cpu.user + cpu.system) / 1e6;
    const heapGb = process.memoryUsage().heapUsed / 2 ** 30;
    const events = this.swarm.queue.processed;
    console.log(
      `[${this.label}] wall ${wallS.toFixed(0)} s, cpu ${cpuS.toFixed(0)} s, virtual ${((this.swarm.now - this.virtualAt) / 1000).toFixed(0)} s, ` +
        `${events} events (${events > 0 ? ((cpuS * 1e6) / events).toFixed(1) : '-'} µs cpu/event), heap ${heapGb.toFixed(2)} GiB: ${what}`,
    );
  }
}
