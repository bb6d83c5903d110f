/**
 * The benchmark relay's own process (bench/join-relay.ts starts it): the relay of `npm start`
 * on a free loopback port, with nothing else on its event loop, as in production, where no
 * Playwright and no page server share its process. With `--notes` it also notes each message
 * in and out of its sockets, by type, on the clock the pages share (performance.timeOrigin +
 * performance.now()), for `npm run bench:join`; the parent asks for them over IPC.
 *
 * IPC: it sends `{ url }` once listening; it answers `'notes'` with `{ notes }` and `'close'`
 * by closing the relay and exiting.
 */
import WebSocket from 'ws';
import { startRelay } from '../src/relay/relay.js';
import type { JoinEvent } from './join-hooks.js';

const notes: JoinEvent[] = [];
const now = (): number => performance.timeOrigin + performance.now();

/** A relay message's type; for a signal, the addressee (in) or the sender (out), first 8 hex characters. */
function kind(raw: unknown, out: boolean): string {
  try {
    const m = JSON.parse(String(raw)) as { t?: unknown; to?: unknown; from?: unknown; data?: { type?: unknown } };
    const who = String((out ? m.from : m.to) ?? '').slice(0, 8);
    return m.t === 'signal'
      ? `signal:${who}:${typeof m.data?.type === 'string' ? m.data.type : 'candidate'}`
      : String(m.t);
  } catch {
    return 'junk';
  }
}

/** Note every message of every socket: ws's emit and send, patched once for the whole process. */
function hookSockets(): void {
  const proto = WebSocket.prototype as unknown as {
    emit: (event: string, ...a: unknown[]) => boolean;
    send: (data: unknown, ...a: unknown[]) => void;
  };
  const emit = proto.emit;
  proto.emit = function (this: unknown, event: string, ...a: unknown[]) {
    if (event === 'message') notes.push({ t: now(), ev: `relay<${kind(a[0], false)}` });
    return emit.call(this, event, ...a);
  };
  const send = proto.send;
  proto.send = function (this: unknown, data: unknown, ...a: unknown[]) {
    notes.push({ t: now(), ev: `relay>${kind(data, true)}` });
    return send.call(this, data, ...a);
  };
}

if (process.argv.includes('--notes')) hookSockets();
const relay = await startRelay({ port: 0, host: '127.0.0.1', limits: { socketsPerAddress: 512 } });
process.on('message', (m) => {
  if (m === 'notes') process.send!({ notes });
  if (m === 'close') void relay.close().finally(() => process.exit(0));
});
// The parent went away without asking: do not outlive it.
process.on('disconnect', () => void relay.close().finally(() => process.exit(0)));
process.send!({ url: relay.address });
