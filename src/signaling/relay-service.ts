/**
 * Relays advertised in the DHT (README, Deploying: several relays). A relay's own peer
 * advertises the well-known service RELAY_SERVICE with the relay's public URL in its
 * metadata; peers discover it after they join and so learn relays beyond their
 * `bootstrap` list, to reconnect to when theirs goes away.
 *
 * The record is signed by the relay's peer like any other, which proves who advertised
 * it, not that the URL is a good relay: anyone may advertise one. That costs little, since
 * a relay cannot impersonate anyone (signals are signed end to end) and a peer only turns
 * to learned relays once its own are gone; it bounds what it keeps (relay-directory.ts)
 * and takes only URLs that parse here.
 */

/** The service id every relay's peer advertises; one place, so peers and relays agree. */
export const RELAY_SERVICE = 'macula.relay';

/** The metadata key holding the relay's URL. */
export const RELAY_URL_KEY = 'url';

/** Longest relay URL accepted (well inside the 2,048-byte metadata limit). */
export const MAX_RELAY_URL_CHARS = 512;

/**
 * A relay endpoint as peers dial it: ws:// or wss:// with a host, without credentials or
 * a fragment (an advertised URL is read by every peer), normalised; null when it is not one.
 */
export function parseRelayUrl(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_RELAY_URL_CHARS) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') return null;
  if (url.hostname === '' || url.username !== '' || url.password !== '' || url.hash !== '') return null;
  return url.href;
}

/** The metadata a relay's peer advertises RELAY_SERVICE with. */
export function relayServiceMetadata(publicUrl: string): Record<string, string> {
  const url = parseRelayUrl(publicUrl);
  if (url === null) throw new TypeError(`not a relay URL: ${JSON.stringify(publicUrl)}`);
  return { [RELAY_URL_KEY]: url };
}

/** The relay URL a discovered provider of RELAY_SERVICE names, or null for anything else. */
export function relayUrlOf(provider: { metadata: Record<string, unknown> }): string | null {
  return parseRelayUrl(provider.metadata[RELAY_URL_KEY]);
}
