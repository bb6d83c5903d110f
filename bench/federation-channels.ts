/**
 * Where each provider of `npm run bench:federation-browser` sits in the channel graph at the
 * end of the run: its nodes closest by XOR, and whether each holds a channel to it. A call to
 * a provider that is not a neighbour travels as an exact routed envelope, handed greedily to
 * whichever neighbour is closest to the provider by XOR (docs/ARCHITECTURE.md, The neighbour-set rule), so it can
 * only arrive through a node that is both close to the provider and one of its neighbours.
 * Printed beside the failures, to show whether failed calls go to providers whose closest
 * nodes hold no channel to them.
 */

/** A node of the mesh whose channels are known (a tab or a Node peer), or only its id (a relay's peer). */
export interface GraphNode {
  name: string;
  nodeId: string;
  /** Node ids of its open channels; undefined when they cannot be read (a relay's own peer). */
  channels: string[] | undefined;
}

export interface ProviderPlace {
  service: string;
  provider: string;
  channels: number;
  /** Its closest nodes by XOR, closest first, and whether a channel joins each to it. */
  closest: Array<{ name: string; channel: boolean }>;
}

function xorDistance(a: string, b: string): bigint {
  return BigInt(`0x${a}`) ^ BigInt(`0x${b}`);
}

/**
 * The `count` nodes closest to each provider by XOR. A channel is seen from either end, so
 * a relay's peer's channels to tabs and Node peers are known from theirs.
 */
export function providerPlaces(
  nodes: GraphNode[],
  providers: Array<{ service: string; nodeId: string }>,
  count = 3,
): ProviderPlace[] {
  const linked = (a: string, b: string): boolean =>
    nodes.some(
      (n) =>
        (n.nodeId === a && n.channels?.includes(b) === true) || (n.nodeId === b && n.channels?.includes(a) === true),
    );
  return providers.map(({ service, nodeId }) => {
    const self = nodes.find((n) => n.nodeId === nodeId);
    const others = nodes
      .filter((n) => n.nodeId !== nodeId)
      .sort((x, y) => {
        const dx = xorDistance(x.nodeId, nodeId);
        const dy = xorDistance(y.nodeId, nodeId);
        return dx < dy ? -1 : dx > dy ? 1 : 0;
      });
    return {
      service,
      provider: self?.name ?? nodeId.slice(0, 8),
      channels: self?.channels?.length ?? 0,
      closest: others.slice(0, count).map((n) => ({ name: n.name, channel: linked(n.nodeId, nodeId) })),
    };
  });
}

export function renderPlaces(places: ProviderPlace[]): string {
  return places
    .map(
      (p) =>
        `\`${p.service}\` (${p.provider}, ${p.channels} channels): closest by XOR ` +
        p.closest.map((c) => `${c.name} (${c.channel ? 'channel' : '**no channel**'})`).join(', '),
    )
    .join('; ');
}
