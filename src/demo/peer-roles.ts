/**
 * Which of the peers this tab knows are not tabs: a relay's own peer (it advertises
 * RELAY_SERVICE with its relay's URL, a signed record the relay directory learns from the
 * DHT) and a Node peer (it says so in its PINGs and PONGs, so this is known while a channel to it is
 * open). A relay's peer is a Node peer too; the relay mark says more, so it wins. The mesh
 * picture and the routing table both mark them from this one reading of a snapshot.
 */
import type { Snapshot } from './snapshot.js';

export type PeerRole = { role: 'relay'; url: string } | { role: 'node' };

export function peerRoles(s: Snapshot): Map<string, PeerRole> {
  const roles = new Map<string, PeerRole>();
  for (const p of s.peers) if (p.kind === 'node') roles.set(p.nodeId, { role: 'node' });
  for (const b of s.table) for (const c of b.contacts) if (c.kind === 'node') roles.set(c.nodeId, { role: 'node' });
  for (const r of s.relays.learned) roles.set(r.nodeId, { role: 'relay', url: r.url });
  return roles;
}

/** The words for a role: the routing table's tag and the hover text of both views. */
export function roleText(role: PeerRole | undefined): { tag: string; title: string } {
  if (role === undefined) return { tag: '', title: '' };
  return role.role === 'relay'
    ? { tag: 'relay', title: `the relay's own peer: ${role.url}` }
    : { tag: 'node', title: 'a Node peer (a server process, not a browser tab)' };
}
