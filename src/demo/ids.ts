/**
 * How the demo shows a node id: a short form, a colour and a place on the ring of the id
 * space. Every view uses these, so one node looks the same everywhere on the page and in
 * every tab (the colour and angle depend on the id alone).
 */

/** Eight hex characters: 32 bits, plenty to tell a handful of tabs apart. */
export const shortId = (id: string): string => id.slice(0, 8);

/** The first 32 bits of a hex id as an unsigned number (0 when the id is malformed). */
function leading32(id: string): number {
  const n = Number.parseInt(id.slice(0, 8), 16);
  return Number.isFinite(n) ? n : 0;
}

/**
 * A stable colour for a node. The hue comes from bytes 4-5 rather than the leading bytes,
 * because nearby nodes on the ring share leading bytes and would otherwise share a hue.
 */
export function idColour(id: string): string {
  const h = Number.parseInt(id.slice(8, 12), 16);
  const hue = Number.isFinite(h) ? Math.round((h / 0x10000) * 360) : 0;
  return `hsl(${hue} 62% 46%)`;
}

/** Angle on the ring in radians: first bytes / 2^32 · 2π, measured clockwise from the top. */
export const idAngle = (id: string): number => (leading32(id) / 2 ** 32) * 2 * Math.PI;

/** A point on a circle of radius r around (cx, cy) for an id, with 0 at twelve o'clock. */
export function ringPoint(id: string, cx: number, cy: number, r: number): { x: number; y: number } {
  const a = idAngle(id);
  return { x: cx + r * Math.sin(a), y: cy - r * Math.cos(a) };
}

/** "3 s ago", "4 min ago": ages in the routing table and the provider list. */
export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  return `${Math.round(m / 60)} h ago`;
}
