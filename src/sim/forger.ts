import type { DhtNode } from '../core/node/dht-node.js';
import { keyForName, toHex as hexOf } from '../core/id.js';
import { sign } from '../core/identity.js';
import { recordSigningBytes, signRecord, type SignedRecord } from '../core/records/records.js';
import { turnableGatewayOf } from './turnable-gateway.js';

/**
 * A hostile member of a nemesis run: it forges records for the services being watched
 * and pushes them two ways — STOREs to the key's closest nodes, and extra records in its
 * own FIND_VALUE answers — so the checker's "no forged record is ever served" is tested
 * against real attempts, not merely an honest network. Every variant must be refused:
 *   - a genuine record with its metadata or endpoint altered (the signature no longer matches),
 *   - a genuine record re-signed by the forger under the owner's node id (wrong owner),
 *   - the forger's own record dated two hours ahead (future-dated) or two hours back (expired).
 */
export class Forger {
  attempts = 0;
  /** STOREs some node accepted: must stay 0. */
  accepted = 0;
  private readonly forgedByKey = new Map<string, SignedRecord[]>();

  /** `node` must be built with a turnable gateway (turnable-gateway.ts). */
  constructor(readonly node: DhtNode) {
    // Answer lookups as an honest node would, with the forgeries slipped in.
    const gateway = turnableGatewayOf(node);
    gateway.turnTo({
      handleFindValue: (body, replyTo, honest) => {
        const forged = this.forgedByKey.get(hexOf(body.key)) ?? [];
        if (forged.length === 0) return honest();
        const records = [...node.records.get(body.key, body.kind, node.clock.now()), ...forged];
        const nodes = node.table.closest(body.key, node.k).map((c) => c.id);
        this.attempts += forged.length;
        gateway.answer(replyTo, 'FIND_VALUE_REPLY', { rid: body.rid, key: body.key, kind: body.kind, records, nodes });
      },
    });
  }

  /** Forge variants of `service`'s records and send them to its closest nodes. */
  async attack(service: string): Promise<void> {
    const { node } = this;
    const key = keyForName(service);
    const found = await node.findValue(key, 'provider');
    const forged = this.variants(service, found.records);
    this.forgedByKey.set(hexOf(key), forged);
    const lookup = await node.findNode(key, { refine: false });
    await Promise.all(
      lookup.closest.slice(0, node.k).flatMap((target) =>
        forged.map(async (record) => {
          this.attempts++;
          try {
            const { reply } = await node.messenger.queryPeer(target, 'STORE', { rid: node.messenger.newId(), record });
            if (reply.type === 'STORE_REPLY' && reply.body.ok) this.accepted++;
          } catch {
            // Lost to the nemesis; nothing to learn.
          }
        }),
      ),
    );
  }

  private variants(service: string, genuine: SignedRecord[]): SignedRecord[] {
    const { node } = this;
    const now = node.clock.now();
    const out: SignedRecord[] = [];
    for (const r of genuine) {
      if (r.nodeId.every((b, i) => b === node.self[i])) continue;
      out.push({ ...r, metadata: { ...r.metadata, forged: true } });
      out.push({ ...r, endpoint: `peer:${node.selfHex}` });
      const stolen = { ...r, publicKey: node.identity.publicKey };
      out.push({ ...stolen, signature: sign(recordSigningBytes(stolen), node.identity.secretKey) });
    }
    const own = {
      kind: 'provider' as const,
      key: keyForName(service),
      endpoint: `peer:${node.selfHex}`,
      metadata: {},
      ttl: 300,
    };
    out.push(signRecord({ ...own, advertisedAt: now + 2 * 3_600_000 }, node.identity));
    out.push(signRecord({ ...own, advertisedAt: now - 2 * 3_600_000 }, node.identity));
    return out;
  }
}
