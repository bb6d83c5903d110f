import { HeldFrame } from '../held-frame.js';

/**
 * The exact number of bytes the codec's MessagePack encoder (@msgpack/msgpack with
 * ignoreUndefined, codec.ts) writes for `value`, without writing them: what a held frame
 * (core/held-frame.ts) counts instead of encoding. -1 when the value is anything whose bytes
 * would not decode back to the same value (undefined in an array, -0, a lone surrogate,
 * an object that is not plain, a key `__proto__`, a Date or any extension type) or would
 * not encode at all (too deep, bigint): the caller then encodes it for real, so such a
 * value costs a real round trip instead of reaching the receiver other than decoded.
 *
 * The rules below mirror the encoder's (smallest integer format, float64 otherwise,
 * str/bin/array/map headers by length); codec.test.ts checks them against encodeFrame.
 */
export function encodedSize(value: unknown): number {
  return sizeOf(value, 1);
}

/**
 * encodedSize of a routed envelope's body (wire/messages.ts, RouteMsg), which every hop builds
 * anew: its fields are known, so their names are not measured and walked as an arbitrary map's.
 * Anything else about it (another field, a value of another type) is measured the general way.
 */
export function routeSize(m: object): number {
  const size = exactRouteSize(m);
  return size >= 0 ? size : encodedSize(m);
}

/**
 * routeSize of an envelope whose own fields are exactly a RouteMsg's, each of its type (a
 * plain object, the eight names and `via` when defined); -1 for any other value, which must
 * be measured the general way. A frame held with this size (codec.ts, holdFrame) is known to
 * be of that shape, so its receiver checks its values without copying them out (readHeld).
 */
export function exactRouteSize(m: object): number {
  const r = m as Record<string, unknown>;
  let fields = 0;
  // Own fields only: a plain object's prototype has no enumerable ones (checked below).
  for (const _key in r) fields++;
  const hasVia = r.via !== undefined;
  if (
    fields !== (hasVia ? 9 : 8) ||
    Object.getPrototypeOf(r) !== Object.prototype ||
    typeof r.hops !== 'number' ||
    typeof r.max !== 'number' ||
    typeof r.hid !== 'number' ||
    typeof r.exact !== 'boolean'
  )
    return -1;
  const dest = sizeOf(r.dest, 2);
  const src = sizeOf(r.src, 2);
  const hops = numberSize(r.hops);
  const max = numberSize(r.max);
  const hid = numberSize(r.hid);
  const path = sizeOf(r.path, 2);
  const body = sizeOf(r.body, 2);
  const via = hasVia ? sizeOf(r.via, 2) : 0;
  if (dest < 0 || src < 0 || hops < 0 || max < 0 || hid < 0 || path < 0 || body < 0 || via < 0) return -1;
  // Map header, the eight names ("dest", "src", "hops", "max", "exact", "path", "hid", "body": 38 bytes),
  // "exact"'s boolean, and "via" (4) when present.
  return 1 + 38 + 1 + dest + src + hops + max + hid + path + body + (hasVia ? 4 + via : 0);
}

/** The encoder's own limit: deeper values throw there. */
const MAX_DEPTH = 100;

function sizeOf(v: unknown, depth: number): number {
  if (depth > MAX_DEPTH) return -1;
  if (v === null) return 1;
  switch (typeof v) {
    case 'boolean':
      return 1;
    case 'number':
      return numberSize(v);
    case 'string':
      return stringSize(v);
    case 'object':
      break;
    default:
      // undefined reads back as null; bigint, functions and symbols do not encode.
      return -1;
  }
  if (v instanceof Uint8Array) return Object.getPrototypeOf(v) === Uint8Array.prototype ? binSize(v.length) : -1;
  if (v instanceof HeldFrame) return binSize(v.length);
  if (Array.isArray(v)) return arraySize(v, depth);
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null ? mapSize(v as Record<string, unknown>, depth) : -1;
}

function numberSize(n: number): number {
  if (!Number.isSafeInteger(n)) return 9; // float64
  if (n >= 0) {
    if (Object.is(n, -0)) return -1; // written as 0
    return n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x100000000 ? 5 : 9;
  }
  return n >= -0x20 ? 1 : n >= -0x80 ? 2 : n >= -0x8000 ? 3 : n >= -0x80000000 ? 5 : 9;
}

function stringSize(s: string): number {
  const n = utf8Length(s);
  if (n < 0) return -1;
  return n + (n < 32 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5);
}

const binSize = (n: number): number => n + (n < 0x100 ? 2 : n < 0x10000 ? 3 : 5);

function arraySize(a: unknown[], depth: number): number {
  if (Object.getPrototypeOf(a) !== Array.prototype) return -1;
  const n = a.length;
  let total = n < 16 ? 1 : n < 0x10000 ? 3 : 5;
  for (let i = 0; i < n; i++) {
    const item = a[i];
    if (item === undefined) return -1; // written as nil, read back as null
    const size = sizeOf(item, depth + 1);
    if (size < 0) return -1;
    total += size;
  }
  return total;
}

function mapSize(m: Record<string, unknown>, depth: number): number {
  let entries = 0;
  let total = 0;
  // for-in rather than Object.keys: the same keys in the same order without an array of them
  // per map (every frame's body is measured). It also walks the prototype's enumerable keys,
  // which Object.prototype has none of unless something added one: then measure nothing.
  for (const key in m) {
    if (!Object.hasOwn(m, key)) return -1;
    const value = m[key];
    if (value === undefined) continue; // ignoreUndefined
    if (key === '__proto__') return -1; // the decoder refuses it
    const keySize = stringSize(key);
    const size = sizeOf(value, depth + 1);
    if (keySize < 0 || size < 0) return -1;
    entries++;
    total += keySize + size;
  }
  return total + (entries < 16 ? 1 : entries < 0x10000 ? 3 : 5);
}

/** UTF-8 length of `s`; -1 when it holds a lone surrogate (encoded as U+FFFD, so not read back as sent). */
function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c < 0xd800 || c > 0xdfff) bytes += 3;
    else if (c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else return -1;
  }
  return bytes;
}
