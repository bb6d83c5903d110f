/**
 * The few DOM helpers the demo needs instead of a UI framework: build an element with
 * attributes and children, build an SVG element, find an element the page must have.
 * Text always goes in through textContent, never innerHTML, because much of what the
 * page shows (service names, metadata, payloads) comes from other peers.
 */
import { idColour, shortId } from './ids.js';

type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined>;

function apply(el: Element, attrs: Attrs, children: Child[]): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

/** An HTML element: h('li', { class: 'x' }, 'text', child). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  apply(el, attrs, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element, same shape as h(). */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, attrs, children);
  return el;
}

/** An element index.html must contain; a missing one is a bug in the page, reported loudly. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`demo page: #${id} is missing`);
  return el as T;
}

/** A coloured dot and short id, with the full id on hover: how every view names a node. */
export function nodeChip(id: string, extra?: string): HTMLElement {
  return h(
    'span',
    { class: 'chip', title: id, 'data-node': id },
    h('span', { class: 'dot', style: `background:${idColour(id)}`, 'aria-hidden': 'true' }),
    h('code', {}, shortId(id)),
    extra ? h('span', { class: 'chip-extra' }, extra) : null,
  );
}

/** Parse a JSON input, treating an empty field as `fallback`; errors name the field. */
export function parseJsonField(value: string, field: string, fallback: unknown): unknown {
  const text = value.trim();
  if (text === '') return fallback;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`${field} is not valid JSON`);
  }
}

/** A JSON value as compact, readable text for result boxes and the feed. */
export const showJson = (v: unknown): string =>
  v === undefined ? 'undefined' : JSON.stringify(v, null, 1).replace(/\n\s*/g, ' ');
