import { startRelay, type Relay, type RelayStats } from '../relay/relay.js';
import type { RelayLimits } from '../relay/limits.js';

export interface TestRelay {
  /** ws:// URL to hand the app's createPeer({ bootstrap }). */
  readonly url: string;
  readonly port: number;
  stats(): RelayStats;
  /** Closes every socket and the port; safe to call twice. */
  close(): Promise<void>;
}

export interface TestRelayOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1: a test relay is for this machine's browsers only. */
  host?: string;
  limits?: Partial<RelayLimits>;
}

/**
 * A relay on a free loopback port for one test or one file. It runs no DHT peer of its
 * own (signaling only, as `--no-peer`): an app's tests see exactly the tabs they open. Every tab of a test comes
 * from the same address, so the per-address socket cap is raised well above any suite's.
 */
export async function startTestRelay(options: TestRelayOptions = {}): Promise<TestRelay> {
  const relay: Relay = await startRelay({
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    limits: { socketsPerAddress: 1024, ...options.limits },
  });
  return {
    url: relay.address,
    port: relay.port,
    stats: () => relay.stats(),
    close: () => relay.close(),
  };
}
