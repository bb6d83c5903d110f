/**
 * Reads one joining page's Chromium performance trace (bench/join-profile.ts): where its renderer's
 * threads spent the time from navigation to the first open channel. Times are in ms since the
 * page's navigation started (its performance.now()), lined up with the trace's clock by the
 * `macula:worker-start` User Timing mark, which both see.
 */

export interface TraceEvent {
  name: string;
  cat?: string;
  ph: string;
  ts: number;
  dur?: number;
  /** Thread (CPU) time, µs: what the thread ran, without the time it waited for a core. */
  tdur?: number;
  pid: number;
  tid: number;
  id?: string;
  args?: { name?: string; data?: Record<string, unknown> };
}

export interface TracedJoin {
  events: TraceEvent[];
  /** The page's own clock: `script-start`, its `macula:` marks and resources fetched. */
  marks: Record<string, number>;
}

/** Timeline events that name what a task ran; the outermost one inside a task counts. */
const KINDS = new Set([
  'ParseHTML',
  'EvaluateScript',
  'v8.compile',
  'v8.compileModule',
  'v8.evaluateModule',
  'v8.produceModuleCache',
  'FunctionCall',
  'TimerFire',
  'EventDispatch',
  'RunMicrotasks',
  'FireAnimationFrame',
  'MajorGC',
  'MinorGC',
  'V8.GC_SCAVENGER',
  'V8.GC_MARK_COMPACTOR',
  'BlinkGC.AtomicPhase',
  'ScheduleStyleRecalculation',
  'UpdateLayoutTree',
  'Layout',
  'Paint',
  'CompositeLayers',
  'ResourceReceivedData',
  'ResourceReceiveResponse',
  'ResourceFinish',
  'ParseAuthorStyleSheet',
  'WebSocketReceiveHandshakeResponse',
  'WebSocketCreate',
]);

function label(e: TraceEvent): string {
  const d = e.args?.data ?? {};
  if (e.name === 'EventDispatch') return `EventDispatch:${String(d['type'] ?? '?')}`;
  if (e.name === 'FunctionCall') {
    const fn = String(d['functionName'] ?? '');
    const url = String(d['url'] ?? '')
      .split('/')
      .pop();
    return `FunctionCall:${fn || '(anonymous)'}@${url}`;
  }
  if (e.name === 'EvaluateScript' || e.name === 'v8.compileModule' || e.name === 'v8.compile')
    return `${e.name}:${String(d['url'] ?? e.args?.data?.['fileName'] ?? '')
      .split('/')
      .pop()}`;
  return e.name;
}

export interface JoinSummary {
  checkpoints: Record<string, number>;
  /** Per window, by thread and task kind: wall time of the tasks, and their thread (CPU) time. */
  windows: Array<{ name: string; busy: Record<string, number>; cpu: Record<string, number> }>;
  /** Per window, the main thread's sampled self time by function, ms. */
  functions: Array<Record<string, number>>;
}

export function summarise(join: TracedJoin): JoinSummary {
  const { events, marks } = join;
  const anchor = events.find((e) => e.name === 'macula:worker-start' && e.cat?.includes('blink.user_timing'));
  if (anchor === undefined || marks['worker-start'] === undefined)
    throw new Error('no macula:worker-start in the trace');
  const pid = anchor.pid;
  const zero = anchor.ts - marks['worker-start'] * 1000;
  const ms = (ts: number): number => (ts - zero) / 1000;
  const threads = new Map<number, string>();
  for (const e of events)
    if (e.ph === 'M' && e.name === 'thread_name' && e.pid === pid) threads.set(e.tid, e.args?.name ?? String(e.tid));
  const threadName = (tid: number): string => {
    const n = threads.get(tid) ?? String(tid);
    return n === 'CrRendererMain' ? 'main' : n.startsWith('DedicatedWorker') ? 'worker' : n;
  };
  const end = marks['first-channel'] ?? Infinity;
  const windows = [
    { name: 'navigation → script-start', from: 0, to: marks['script-start'] ?? 0 },
    { name: 'script-start → relay welcome', from: marks['script-start'] ?? 0, to: marks['relay-welcome'] ?? end },
    { name: 'relay welcome → first channel', from: marks['relay-welcome'] ?? end, to: end },
  ];
  const mine = events.filter((e) => e.pid === pid && e.ph === 'X' && e.dur !== undefined);
  const busy = windows.map((w) => ({
    name: w.name,
    busy: {} as Record<string, number>,
    cpu: {} as Record<string, number>,
  }));
  const add = (i: number, key: string, v: number, cpu: number): void => {
    if (v > 0) busy[i]!.busy[key] = (busy[i]!.busy[key] ?? 0) + v;
    if (cpu > 0) busy[i]!.cpu[key] = (busy[i]!.cpu[key] ?? 0) + cpu;
  };
  // Thread time of an event, pro rata to the part of its wall time inside the window.
  const cpuOf = (e: TraceEvent, part: number): number =>
    e.tdur === undefined || !(e.dur! > 0) ? 0 : (e.tdur / 1000) * (part / (e.dur! / 1000));
  const byThread = new Map<number, TraceEvent[]>();
  for (const e of mine) byThread.set(e.tid, [...(byThread.get(e.tid) ?? []), e]);
  for (const [tid, list] of byThread) {
    const name = threadName(tid);
    if (name !== 'main' && name !== 'worker') continue;
    list.sort((a, b) => a.ts - b.ts || b.dur! - a.dur!);
    const tasks = list.filter((e) => e.name === 'RunTask' || e.name === 'ThreadControllerImpl::RunTask');
    let taskEnd = -Infinity;
    for (const task of tasks) {
      if (task.ts < taskEnd) continue; // nested
      taskEnd = task.ts + task.dur!;
      const start = ms(task.ts);
      const stop = ms(taskEnd);
      // The outermost named events inside the task, and what the task did outside them.
      const inner: TraceEvent[] = [];
      let innerEnd = -Infinity;
      for (const e of list) {
        if (e.ts < task.ts || e.ts >= taskEnd || e === task || !KINDS.has(e.name)) continue;
        if (e.ts < innerEnd) continue;
        innerEnd = e.ts + e.dur!;
        inner.push(e);
      }
      windows.forEach((w, i) => {
        const overlap = (a: number, b: number): number => Math.max(0, Math.min(b, w.to) - Math.max(a, w.from));
        let named = 0;
        let namedCpu = 0;
        for (const e of inner) {
          const o = overlap(ms(e.ts), ms(e.ts + e.dur!));
          named += o;
          namedCpu += cpuOf(e, o);
          add(i, `${name}: ${label(e)}`, o, cpuOf(e, o));
        }
        const all = overlap(start, stop);
        add(i, `${name}: (task, outside named events)`, all - named, cpuOf(task, all) - namedCpu);
        add(i, `${name}: all tasks`, all, cpuOf(task, all));
      });
    }
  }
  const functions = windows.map((w) => sampled(events, pid, threads, ms, w.from, w.to));
  return { checkpoints: checkpoints(marks), windows: busy, functions };
}

function checkpoints(marks: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(marks)) if (Number.isFinite(v)) out[k] = v;
  return out;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url?: string; lineNumber: number };
  parent?: number;
}

/** The main thread's CPU samples (V8's sampling profiler in the trace), self time by function, `from` → `to`. */
function sampled(
  events: TraceEvent[],
  pid: number,
  threads: Map<number, string>,
  ms: (ts: number) => number,
  from: number,
  to: number,
): Record<string, number> {
  const main = [...threads].find(([, n]) => n === 'CrRendererMain')?.[0];
  const profile = events.find((e) => e.pid === pid && e.tid === main && e.name === 'Profile');
  if (profile === undefined) return {};
  const nodes = new Map<number, ProfileNode>();
  let t = Number((profile.args?.data as { startTime?: number } | undefined)?.startTime ?? profile.ts);
  const out: Record<string, number> = {};
  let last: { node: number; t: number } | undefined;
  for (const e of events) {
    if (e.name !== 'ProfileChunk' || e.id !== profile.id || e.pid !== pid) continue;
    const data = e.args?.data as
      { cpuProfile?: { nodes?: ProfileNode[]; samples?: number[] }; timeDeltas?: number[] } | undefined;
    for (const n of data?.cpuProfile?.nodes ?? []) nodes.set(n.id, n);
    const samples = data?.cpuProfile?.samples ?? [];
    const deltas = data?.timeDeltas ?? [];
    samples.forEach((node, i) => {
      t += deltas[i] ?? 0;
      if (last !== undefined) {
        const at = ms(last.t);
        if (at >= from && at < to) {
          const f = nodes.get(last.node)?.callFrame;
          const key =
            f === undefined
              ? '?'
              : `${f.functionName || '(anonymous)'} ${(f.url ?? '').split('/').pop() ?? ''}:${f.lineNumber}`;
          out[key] = (out[key] ?? 0) + (t - last.t) / 1000;
        }
      }
      last = { node, t };
    });
  }
  return out;
}
