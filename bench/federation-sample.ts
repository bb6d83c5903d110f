/**
 * One timed operation of `npm run bench:federation-browser`, the same in a tab
 * (bench/federation-browser-page.ts) and in a Node peer (e2e/node-peer-host.ts's `sample`):
 * a cold discovery or a call, bounded by a deadline of its own so that a call across relays
 * that never answers costs the run one failed sample, not the run.
 *
 * The timing is taken where the operation runs, so no driver round trip enters a figure.
 */

/** What a sample needs of a peer: the browser's and the Node peer's `Peer` both fit. */
export interface SampledPeer {
  discover(serviceId: string, options?: { forceRefresh?: boolean }): Promise<unknown[]>;
  callDetailed(
    serviceId: string,
    args?: unknown,
    options?: { timeoutMs?: number; maxAttempts?: number },
  ): Promise<{ provider: string }>;
  peers(): Promise<Array<{ nodeId: string }>>;
  on(event: 'lookup', cb: (p: LookupDone) => void): unknown;
}

/** The part of a `lookup` event a sample reads (the full type is LookupProgress & a subject). */
interface LookupDone {
  kind: string;
  hops?: number;
  answered?: number;
  subject?: { kind: string; name?: string };
}

export type SampleKind = 'discover' | 'call';

export interface Sample {
  ok: boolean;
  /** Until the answer, or until the failure (the deadline's length when it ran out). */
  ms: number;
  /**
   * A failure's error code (MeshError) or message, absent on success; a call whose one attempt
   * failed says why in brackets (`ALL_PROVIDERS_FAILED(TIMEOUT)`).
   */
  error?: string;
  /**
   * Calls only: whether the provider was this peer's neighbour (an open channel) just after the
   * sample, so the call went straight to it rather than routed through the mesh; undefined
   * when the provider is not known (a failure before any attempt).
   */
  direct?: boolean;
}

/** The code of a failure, with the cause of a failed call's attempt (its MeshError details). */
function failureOf(e: unknown): { error: string; provider?: string } {
  const err = e as {
    code?: string;
    message?: string;
    details?: { attempts?: Array<{ nodeId: string; code: string }> };
  };
  const attempt = err.details?.attempts?.[0];
  const code = err.code ?? err.message ?? String(e);
  return attempt === undefined ? { error: code } : { error: `${code}(${attempt.code})`, provider: attempt.nodeId };
}

/**
 * A call gets the product's default per-attempt timeout and one attempt (there is one
 * provider per service); the deadline is a backstop above it, so that neither a discovery nor
 * a call can hold the run longer than `deadlineMs`.
 */
export const CALL_TIMEOUT_MS = 5_000;

/** Runs samples against one peer and keeps the hops its service lookups report. */
export class Sampler {
  private readonly hops: Array<{ service: string; hops: number }> = [];

  constructor(private readonly peer: SampledPeer) {
    peer.on('lookup', (p) => {
      if (p.kind !== 'done' || (p.answered ?? 0) === 0 || p.subject?.kind !== 'service') return;
      this.hops.push({ service: p.subject.name ?? '', hops: p.hops ?? 0 });
    });
  }

  async sample(kind: SampleKind, serviceId: string, deadlineMs: number): Promise<Sample> {
    let provider: string | undefined;
    const t0 = performance.now();
    const op =
      kind === 'discover'
        ? this.peer.discover(serviceId, { forceRefresh: true }).then((found) => {
            if (found.length === 0) throw Object.assign(new Error('no provider found'), { code: 'NOT_FOUND' });
          })
        : this.peer
            .callDetailed(serviceId, { at: t0 }, { timeoutMs: CALL_TIMEOUT_MS, maxAttempts: 1 })
            .then((outcome) => void (provider = outcome.provider));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error(`no answer within ${deadlineMs} ms`), { code: 'DEADLINE' })),
        deadlineMs,
      );
    });
    let error: string | undefined;
    try {
      await Promise.race([op, deadline]);
    } catch (e) {
      ({ error, provider } = failureOf(e));
      // The operation may still settle after the deadline: keep it from surfacing as unhandled.
      op.catch(() => undefined);
    } finally {
      clearTimeout(timer);
    }
    const ms = performance.now() - t0;
    const sample: Sample = error === undefined ? { ok: true, ms } : { ok: false, ms, error };
    if (kind === 'call' && provider !== undefined)
      sample.direct = (await this.peer.peers()).some((p) => p.nodeId === provider);
    return sample;
  }

  /**
   * Hops of every answered service lookup since the last call, by service. Read in bulk at
   * the end: in a tab a lookup's event crosses the worker boundary apart from its result, so
   * it cannot be pinned to the sample that ran it, only to the service it looked for.
   */
  takeHops(): Array<{ service: string; hops: number }> {
    return this.hops.splice(0);
  }
}
