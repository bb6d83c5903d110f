import { sha256 } from '@noble/hashes/sha2.js';
import { ID_BITS, ID_BYTES } from './constants.js';
import { invalidArgument } from './errors.js';

/** A 32-byte Kademlia identifier: a node id (SHA-256 of its public key) or a key (SHA-256 of a name). */
export type NodeId = Uint8Array;
/** The same identifier as 64 lowercase hex characters; used as map key and on the public API. */
export type IdHex = string;

const HEX = '0123456789abcdef';
const encoder = new TextEncoder();

/** The character codes of each byte's high and low hex digit. */
const H = Uint16Array.from({ length: 256 }, (_, b) => HEX.charCodeAt(b >> 4));
const L = Uint16Array.from({ length: 256 }, (_, b) => HEX.charCodeAt(b & 15));

/**
 * One flat string. Appending pair by pair built a rope of ~30 cons cells that V8 keeps
 * until something flattens it: ~1.5 KB for a 64-character id held as a value (a record
 * store's owner, a tombstone's), against ~100 bytes flat. An id (32 bytes) is one call with
 * its 64 character codes as arguments: no array to fill and spread, and ~2.5x faster than
 * that (an id is turned into hex several times per simulated frame: BENCHMARKS.md, Simulator speed).
 */
export function toHex(id: Uint8Array): string {
  if (id.length !== ID_BYTES) return anyToHex(id);
  // Four bytes a line, not one argument a line.
  // prettier-ignore
  return String.fromCharCode(
    H[id[0]!]!, L[id[0]!]!, H[id[1]!]!, L[id[1]!]!, H[id[2]!]!, L[id[2]!]!, H[id[3]!]!, L[id[3]!]!,
    H[id[4]!]!, L[id[4]!]!, H[id[5]!]!, L[id[5]!]!, H[id[6]!]!, L[id[6]!]!, H[id[7]!]!, L[id[7]!]!,
    H[id[8]!]!, L[id[8]!]!, H[id[9]!]!, L[id[9]!]!, H[id[10]!]!, L[id[10]!]!, H[id[11]!]!, L[id[11]!]!,
    H[id[12]!]!, L[id[12]!]!, H[id[13]!]!, L[id[13]!]!, H[id[14]!]!, L[id[14]!]!, H[id[15]!]!, L[id[15]!]!,
    H[id[16]!]!, L[id[16]!]!, H[id[17]!]!, L[id[17]!]!, H[id[18]!]!, L[id[18]!]!, H[id[19]!]!, L[id[19]!]!,
    H[id[20]!]!, L[id[20]!]!, H[id[21]!]!, L[id[21]!]!, H[id[22]!]!, L[id[22]!]!, H[id[23]!]!, L[id[23]!]!,
    H[id[24]!]!, L[id[24]!]!, H[id[25]!]!, L[id[25]!]!, H[id[26]!]!, L[id[26]!]!, H[id[27]!]!, L[id[27]!]!,
    H[id[28]!]!, L[id[28]!]!, H[id[29]!]!, L[id[29]!]!, H[id[30]!]!, L[id[30]!]!, H[id[31]!]!, L[id[31]!]!,
  );
}

/** toHex of any length. */
function anyToHex(bytes: Uint8Array): string {
  const codes = new Array<number>(bytes.length * 2);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    codes[2 * i] = H[b]!;
    codes[2 * i + 1] = L[b]!;
  }
  return String.fromCharCode.apply(null, codes);
}

/** 64 lowercase hex characters. A loop over the codes, not a regular expression: ids are checked as they come in on every frame. */
export function isIdHex(s: unknown): s is IdHex {
  if (typeof s !== 'string' || s.length !== 2 * ID_BYTES) return false;
  for (let i = 0; i < 2 * ID_BYTES; i++) if (nibble(s.charCodeAt(i)) < 0) return false;
  return true;
}

export function fromHex(hex: string): NodeId {
  if (typeof hex !== 'string' || hex.length !== 2 * ID_BYTES) throw notHex(hex);
  const out = new Uint8Array(ID_BYTES);
  // Checked and read in one pass over the character codes, rather than a regular expression,
  // then a slice and a parseInt per byte: ids come in as hex on every frame's way through a node.
  for (let i = 0; i < ID_BYTES; i++) {
    const high = nibble(hex.charCodeAt(2 * i));
    const low = nibble(hex.charCodeAt(2 * i + 1));
    if ((high | low) < 0) throw notHex(hex);
    out[i] = (high << 4) | low;
  }
  return out;
}

const notHex = (hex: unknown): Error => invalidArgument('id', '64 lowercase hex characters', hex);

/** The value of a lowercase hex digit (0-9, a-f) from its character code; -1 for any other character. */
const nibble = (code: number): number =>
  code >= 0x30 && code <= 0x39 ? code - 0x30 : code >= 0x61 && code <= 0x66 ? code - 0x57 : -1;

export const isNodeId = (v: unknown): v is NodeId => v instanceof Uint8Array && v.length === ID_BYTES;

/** The DHT key of a service or topic name. */
export const keyForName = (name: string): NodeId => sha256(encoder.encode(name));

export const nodeIdFromPublicKey = (publicKey: Uint8Array): NodeId => sha256(publicKey);

export function xorDistance(a: NodeId, b: NodeId): Uint8Array {
  const out = new Uint8Array(ID_BYTES);
  for (let i = 0; i < ID_BYTES; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** Which of `a` and `b` is closer to `target`: negative when `a`, positive when `b`, 0 when equal. */
export function compareDistance(target: NodeId, a: NodeId, b: NodeId): number {
  for (let i = 0; i < ID_BYTES; i++) {
    const da = a[i]! ^ target[i]!;
    const db = b[i]! ^ target[i]!;
    if (da !== db) return da - db;
  }
  return 0;
}

/** The first 32 bits of an id as an unsigned integer: most ids differ in them, so comparing these first spares reading the rest. */
export const prefixOf = (id: NodeId): number => ((id[0]! << 24) | (id[1]! << 16) | (id[2]! << 8) | id[3]!) >>> 0;

export function idsEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Number of leading bits `a` and `b` share (256 when equal). */
export function commonPrefixLength(a: NodeId, b: NodeId): number {
  for (let i = 0; i < ID_BYTES; i++) {
    const x = a[i]! ^ b[i]!;
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return ID_BITS;
}

/**
 * Bucket of `other` in `self`'s routing table: 0 holds the farthest half of the id space
 * (first bit differs), 255 the single closest id. Undefined for self (-1).
 */
export function bucketIndex(self: NodeId, other: NodeId): number {
  const cpl = commonPrefixLength(self, other);
  return cpl === ID_BITS ? -1 : cpl;
}

/** Bit `i` of an id, counting from the most significant bit. */
export const bitAt = (id: NodeId, i: number): number => (id[i >> 3]! >> (7 - (i & 7))) & 1;

/** A random id that falls in `self`'s bucket `index`: same first `index` bits, bit `index` flipped. */
export function randomIdInBucket(self: NodeId, index: number, randomBytes: (n: number) => Uint8Array): NodeId {
  const id = randomBytes(ID_BYTES);
  for (let i = 0; i <= index; i++) {
    const byte = i >> 3;
    const mask = 1 << (7 - (i & 7));
    const want = i < index ? bitAt(self, i) : 1 - bitAt(self, i);
    id[byte] = want ? id[byte]! | mask : id[byte]! & ~mask;
  }
  return id;
}

/** Sort ids by distance to `target`, closest first (in place). */
export const sortByDistance = <T extends { id: NodeId }>(target: NodeId, items: T[]): T[] =>
  items.sort((a, b) => compareDistance(target, a.id, b.id));
