import { idsEqual, nodeIdFromPublicKey, toHex, type NodeId } from '../id.js';

/**
 * The (public key, node id) pairs already proven to match (nodeId = SHA-256(publicKey))
 * while one batch of records is checked, so each owner's key is hashed once per batch
 * rather than once per record. A restored snapshot holds many records per owner (the
 * benchmark's 10,000 records have 500 owners), and hashing every one of them was most of a
 * trusted restore's checks (BENCHMARKS.md, Micro).
 *
 * Nothing is taken on trust: a pair counts as proven only when both the node id and every
 * byte of the public key equal a pair this batch hashed itself, so a record naming a known
 * owner with another key is hashed, and refused, like any other. It lives for one batch
 * (RecordStore.load), so it holds at most one entry per record of that batch.
 */
export class OwnerProofs {
  /** node id hex → the public key it was proven to hash from. */
  private readonly proven = new Map<string, Uint8Array>();

  /** How many pairs were hashed (the rest were found already proven). */
  hashed = 0;

  /** Whether nodeId = SHA-256(publicKey); `nodeIdHex` is toHex(nodeId) when the caller has it. */
  owns(publicKey: Uint8Array, nodeId: NodeId, nodeIdHex: string = toHex(nodeId)): boolean {
    const known = this.proven.get(nodeIdHex);
    if (known !== undefined && idsEqual(known, publicKey)) return true;
    this.hashed++;
    if (!idsEqual(nodeIdFromPublicKey(publicKey), nodeId)) return false;
    // A copy: the caller's array may be changed after this (the record keeps its own copy too).
    this.proven.set(nodeIdHex, new Uint8Array(publicKey));
    return true;
  }
}
