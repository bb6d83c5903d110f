/**
 * What this tab answers when it advertises a service from the demo. Two samples have a
 * behaviour of their own (a plausible meter reading, an echo); any other name gets a
 * generic handler that says who answered, so a call always shows which tab served it.
 */
import type { ServiceHandler } from '../index.js';
import { shortId } from './ids.js';

export interface Sample {
  handler: ServiceHandler;
  metadata: Record<string, unknown>;
  /** Arguments the call form suggests for it. */
  exampleArgs: unknown;
}

export const SAMPLE_NAMES = ['energy.home.get', 'demo.echo'] as const;

/** A household load that drifts slowly rather than jumping: successive calls look like a real meter. */
function meter(): () => { watts: number; at: string } {
  let watts = 600 + Math.random() * 900;
  return () => {
    watts = Math.min(4_000, Math.max(120, watts + (Math.random() - 0.5) * 160));
    return { watts: Math.round(watts), at: new Date().toISOString() };
  };
}

export function sampleFor(name: string, nodeId: string, onServe: (name: string, args: unknown) => void): Sample {
  const served =
    (handler: ServiceHandler): ServiceHandler =>
    (args) => {
      onServe(name, args);
      return handler(args);
    };
  if (name === 'energy.home.get') {
    const read = meter();
    return {
      handler: served(() => read()),
      metadata: { unit: 'W', site: 'home', tab: shortId(nodeId) },
      exampleArgs: {},
    };
  }
  if (name === 'demo.echo') {
    return {
      handler: served((args) => args),
      metadata: { echoes: 'args', tab: shortId(nodeId) },
      exampleArgs: { hello: 'mesh' },
    };
  }
  return {
    handler: served((args) => ({ service: name, answeredBy: shortId(nodeId), args, at: new Date().toISOString() })),
    metadata: { tab: shortId(nodeId) },
    exampleArgs: {},
  };
}
