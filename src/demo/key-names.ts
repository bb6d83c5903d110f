/**
 * Names for lookup keys. A lookup only carries the 256-bit key it looks for; the library
 * stores a service or topic at SHA-256(name) (see the README), so hashing the names this
 * tab works with lets the picture and the log say "demo.echo" instead of "0130c4ab…".
 * Hashing needs crypto.subtle, which browsers give secure contexts only (https, or
 * localhost): elsewhere keys simply stay unnamed.
 */
import { shortId } from './ids.js';

const toHex = (buf: ArrayBuffer): string =>
  [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');

export class KeyNames {
  private readonly names = new Map<string, string>();
  /** Keys that are a name itself (not a wildcard prefix): short enough to print on the picture. */
  private readonly plain = new Set<string>();

  constructor(self: string) {
    // A node looks itself up when it joins, to meet its closest neighbours.
    this.names.set(self, 'this node (self lookup)');
  }

  /** Remember the key of `name` (a service, a topic or a topic pattern). */
  async learn(name: string): Promise<void> {
    const subtle = globalThis.crypto?.subtle;
    if (subtle === undefined || name === '') return;
    const keys: Array<[string, string]> = [[name, name]];
    // Publishing also looks under each prefix of the topic, where wildcard subscriptions live.
    const segments = name.split('.');
    for (let n = 0; n <= segments.length; n++) {
      const prefix = segments.slice(0, n).join('.');
      keys.push([`wildcard:${prefix}`, `wildcard subscribers of "${prefix || '(root)'}"`]);
    }
    try {
      await Promise.all(
        keys.map(async ([input, label]) => {
          const hex = toHex(await subtle.digest('SHA-256', new TextEncoder().encode(input)));
          if (!this.names.has(hex)) this.names.set(hex, label);
          if (input === name) this.plain.add(hex);
        }),
      );
    } catch {
      // Naming is a nicety; a key without a name is still shown by its hex.
    }
  }

  /** The service or topic name a key stands for, when it is one this tab used. */
  name(key: string): string | undefined {
    return this.plain.has(key) ? this.names.get(key) : undefined;
  }

  /** "demo.echo" for a known key, else "key 0130c4ab…". */
  label(key: string): string {
    return this.names.get(key) ?? `key ${shortId(key)}…`;
  }
}
