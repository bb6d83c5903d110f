/**
 * The event log: everything the page saw happen, newest first, filterable by kind and
 * by text. It is the one place errors go, so that a failed call or lookup shows up on the
 * page (and the console stays clean for the tests that watch it).
 */
import { byId, h } from './dom.js';

export type LogKind = 'peer' | 'lookup' | 'service' | 'call' | 'pubsub' | 'error' | 'info';

export const LOG_KINDS: readonly LogKind[] = ['peer', 'lookup', 'service', 'call', 'pubsub', 'error', 'info'];

interface Entry {
  at: number;
  kind: LogKind;
  text: string;
  el: HTMLLIElement;
}

/** Bounded, so a tab left open all day does not grow without limit. */
const MAX_ENTRIES = 400;

export class EventLog {
  private readonly entries: Entry[] = [];
  private readonly list = byId<HTMLOListElement>('log');
  private readonly textFilter = byId<HTMLInputElement>('log-filter');
  private readonly kindFilter = byId<HTMLSelectElement>('log-kind');
  private readonly count = byId('log-count');

  constructor() {
    for (const kind of LOG_KINDS) this.kindFilter.append(h('option', { value: kind }, kind));
    this.textFilter.addEventListener('input', () => this.applyFilter());
    this.kindFilter.addEventListener('change', () => this.applyFilter());
    byId('log-clear').addEventListener('click', () => {
      for (const e of this.entries.splice(0)) e.el.remove();
      this.updateCount();
    });
  }

  add(kind: LogKind, text: string): void {
    const at = Date.now();
    const el = h(
      'li',
      { class: `log-${kind}`, 'data-kind': kind },
      h('time', { datetime: new Date(at).toISOString() }, new Date(at).toLocaleTimeString([], { hour12: false })),
      h('span', { class: `badge badge-${kind}` }, kind),
      h('span', { class: 'log-text' }, text),
    );
    const entry: Entry = { at, kind, text, el };
    el.hidden = !this.matches(entry);
    this.entries.push(entry);
    this.list.prepend(el);
    if (this.entries.length > MAX_ENTRIES) this.entries.shift()?.el.remove();
    this.updateCount();
  }

  /** An error from an action: its stable code (when the library gave one) and message. */
  error(action: string, e: unknown): void {
    const err = e as { code?: string; message?: string };
    this.add('error', `${action} failed: ${err.code ? `${err.code} — ` : ''}${err.message ?? String(e)}`);
  }

  private matches(e: Entry): boolean {
    const kind = this.kindFilter.value;
    const text = this.textFilter.value.trim().toLowerCase();
    return (kind === '' || e.kind === kind) && (text === '' || e.text.toLowerCase().includes(text));
  }

  private applyFilter(): void {
    for (const e of this.entries) e.el.hidden = !this.matches(e);
    this.updateCount();
  }

  private updateCount(): void {
    const shown = this.entries.filter((e) => !e.el.hidden).length;
    this.count.textContent = shown === this.entries.length ? `${shown}` : `${shown} of ${this.entries.length}`;
  }
}
