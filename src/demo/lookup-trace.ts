/**
 * Turns the peer's lookup progress events into routes the mesh picture can draw. A
 * lookup sends a few routed envelopes along different first hops ('path-start'); each
 * answer comes back with the nodes it passed ('path-reply', answering node first); the
 * lookup ends with 'done'. A trace stays visible a few seconds after it ends so the eye
 * can follow it, and only the latest few are kept so the picture stays readable.
 */
import type { LookupProgress } from '../index.js';

export interface Route {
  /** Nodes from this peer to the answering node, this peer first. */
  nodes: string[];
  hops: number;
  records: number;
}

export interface Trace {
  target: string;
  startedAt: number;
  /** First hops still waiting for an answer. */
  pending: Set<string>;
  failed: Set<string>;
  routes: Route[];
  done?: { hops: number; paths: number; answered: number; durationMs: number; at: number };
}

/** How long a finished lookup stays on the picture. */
export const LINGER_MS = 6_000;
/** Lookups drawn at once; maintenance lookups come in bursts. */
const MAX_TRACES = 3;

export class LookupTracer {
  private readonly traces = new Map<string, Trace>();

  constructor(private readonly self: string) {}

  /** Apply one event; returns the trace it belongs to. */
  handle(p: LookupProgress): Trace {
    let t = this.traces.get(p.target);
    // A new lookup of the same key starts a fresh trace.
    if (t === undefined || (p.kind === 'path-start' && t.done !== undefined)) {
      t = { target: p.target, startedAt: Date.now(), pending: new Set(), failed: new Set(), routes: [] };
      this.traces.delete(p.target);
      this.traces.set(p.target, t);
      while (this.traces.size > MAX_TRACES) {
        const oldest = this.traces.keys().next().value;
        if (oldest === undefined) break;
        this.traces.delete(oldest);
      }
    }
    switch (p.kind) {
      case 'path-start':
        t.pending.add(p.via);
        break;
      case 'path-reply': {
        const route = this.route(p.from, p.path);
        // The reply came back through its first hop; that path is no longer waiting.
        const firstHop = route[1];
        if (firstHop !== undefined) t.pending.delete(firstHop);
        if (route.length > 1) t.routes.push({ nodes: route, hops: p.hops, records: p.records });
        break;
      }
      case 'path-failed':
        t.pending.delete(p.via);
        t.failed.add(p.via);
        break;
      case 'done':
        t.pending.clear();
        t.done = { hops: p.hops, paths: p.paths, answered: p.answered, durationMs: p.durationMs, at: Date.now() };
        break;
    }
    return t;
  }

  /** Traces still worth drawing at `now`, oldest first. */
  visible(now: number): Trace[] {
    return [...this.traces.values()].filter((t) =>
      t.done === undefined ? now - t.startedAt < 30_000 : now - t.done.at < LINGER_MS,
    );
  }

  /**
   * The reply's path lists the nodes it passed, answering node first; reversed, it is the
   * way from us to the answer. This peer is not on it (it received, it did not forward).
   */
  private route(from: string, path: string[]): string[] {
    const passed = path[0] === from ? [...path] : [from, ...path];
    const nodes = [this.self, ...passed.reverse()];
    return nodes.filter((id, i) => i === 0 || (id !== this.self && id !== nodes[i - 1]));
  }
}
