import { idsEqual, nodeIdFromPublicKey, type NodeId } from '../id.js';
import { BatchIds, type BatchId } from './batch-ids.js';

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
  /** The batch's node id → the batch's copy of the public key it was proven to hash from. */
  private readonly proven = new Map<BatchId, Uint8Array>();

  /** How many pairs were hashed (the rest were found already proven). */
  hashed = 0;

  /** `ids`: the batch's ids, shared with whoever files the batch's records (batch-ids.ts). */
  constructor(readonly ids: BatchIds = new BatchIds()) {}

  /**
   * The batch's copies of the owner's key and id when nodeId = SHA-256(publicKey), for the
   * record to keep (records never change their arrays); undefined when they do not match.
   */
  prove(publicKey: Uint8Array, nodeId: NodeId): { publicKey: Uint8Array; nodeId: Uint8Array } | undefined {
    const id = this.ids.intern(nodeId);
    const known = this.proven.get(id);
    if (known !== undefined && idsEqual(known, publicKey)) return { publicKey: known, nodeId: id.bytes };
    this.hashed++;
    if (!idsEqual(nodeIdFromPublicKey(publicKey), nodeId)) return undefined;
    const copy = new Uint8Array(publicKey);
    this.proven.set(id, copy);
    return { publicKey: copy, nodeId: id.bytes };
  }

  /** Whether nodeId = SHA-256(publicKey). */
  owns(publicKey: Uint8Array, nodeId: NodeId): boolean {
    return this.prove(publicKey, nodeId) !== undefined;
  }
}
