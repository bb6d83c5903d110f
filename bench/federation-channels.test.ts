import { describe, expect, it } from 'vitest';
import { providerPlaces, renderPlaces, type GraphNode } from './federation-channels.js';

const id = (lastByte: number): string => '00'.repeat(31) + lastByte.toString(16).padStart(2, '0');

describe('providerPlaces', () => {
  const nodes: GraphNode[] = [
    { name: 'provider', nodeId: id(0x10), channels: [id(0x80)] },
    { name: 'near', nodeId: id(0x11), channels: [] },
    // A relay's peer: its own channel list cannot be read, only the others' lists name it.
    { name: 'relay peer', nodeId: id(0x12), channels: undefined },
    { name: 'far but linked', nodeId: id(0x80), channels: [] },
    { name: 'linked from its end', nodeId: id(0x13), channels: [id(0x10)] },
  ];

  it('orders the other nodes by XOR distance and sees a channel from either end', () => {
    const [place] = providerPlaces(nodes, [{ service: 's', nodeId: id(0x10) }], 3);
    expect(place).toEqual({
      service: 's',
      provider: 'provider',
      channels: 1,
      closest: [
        { name: 'near', channel: false },
        { name: 'relay peer', channel: false },
        { name: 'linked from its end', channel: true },
      ],
    });
    expect(renderPlaces([place!])).toBe(
      '`s` (provider, 1 channels): closest by XOR near (**no channel**), relay peer (**no channel**), linked from its end (channel)',
    );
  });
});
