/**
 * Which sockets count as one client for the per-address socket cap. An IPv4 address is one
 * client; an IPv6 host usually holds a whole /64 (SLAAC, privacy addresses), so one party can
 * pick a fresh /128 for every socket: IPv6 sockets are counted by their /64 prefix.
 */
import { isIPv4, isIPv6 } from 'node:net';

export function addressKey(remote: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remote);
  if (mapped) return mapped[1]!;
  if (isIPv4(remote) || !isIPv6(remote)) return remote;
  return `${expandIPv6(remote).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, zero-padded; a zone (`%eth0`) is dropped. */
function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('%')[0]!.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  // An embedded IPv4 tail (::1.2.3.4) takes two groups; the /64 prefix never reaches it.
  const missing = 8 - left.length - right.length;
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, missing)).fill('0'), ...right];
  return groups.map((g) => g.toLowerCase().padStart(4, '0'));
}
