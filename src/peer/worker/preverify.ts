import { idsEqual, toHex, type NodeId } from '../../core/id.js';
import type { MemoizedVerifier, Verifier } from '../../core/identity.js';
import { checkRecord } from '../../core/records/records.js';
import { checkPublication } from '../../core/registry/publication.js';
import { decodeFrame, peekType } from '../../core/wire/codec.js';
import type { Message } from '../../core/wire/messages.js';
import type { WebEd25519 } from '../../crypto/web-ed25519.js';

/**
 * Signatures checked before the core sees them. The core verifies synchronously, with
 * @noble/curves (pure JS, ~0.8 ms a signature in a page); WebCrypto does it in ~0.05 ms but
 * only asynchronously. So the worker looks into each frame that carries signatures meant for
 * this node (a PUBLISH, the records of a FIND_VALUE_REPLY or a STORE, directly or in an
 * envelope that ends here), has WebCrypto check them, and tells the core's memoizing
 * verifier those that are valid (identity.ts, rememberValid) before handing the frame over:
 * the core's own check then finds them there. One that WebCrypto refuses is not
 * remembered, so the core decides it with @noble/curves as before: outcomes do not change,
 * only who spends the time.
 *
 * Frames are found out by the core's own checks (checkPublication, checkRecord), run with a
 * verifier that only notes what it is asked: no second copy of what is signed how.
 */
export interface Signed {
  signature: Uint8Array;
  message: Uint8Array;
  publicKey: Uint8Array;
}

/** Signatures found valid lately, by hex: a record that comes back on every lookup is checked once. */
const KNOWN_VALID = 4_096;

export class Preverifier {
  private readonly known = new Set<string>();

  constructor(
    private readonly web: WebEd25519,
    private readonly memo: Pick<MemoizedVerifier, 'rememberValid'>,
    private readonly self: NodeId,
    private readonly now: () => number,
    private readonly count: (name: 'signatures.preverified' | 'signatures.preverifyRefused') => void,
  ) {}

  /** Signatures in `frame` worth checking ahead of the core: none for most frames. */
  signedIn(frame: Uint8Array): Signed[] {
    const type = peekType(frame);
    if (type !== 'PUBLISH' && type !== 'FIND_VALUE_REPLY' && type !== 'STORE' && type !== 'RPC_ROUTE') return [];
    const outer = decodeFrame(frame);
    if (!outer.ok) return [];
    let message: Message = outer.message;
    if (message.type === 'RPC_ROUTE') {
      // Only an envelope for us: one passing through is checked by whoever it ends at.
      if (!idsEqual(message.body.dest, this.self)) return [];
      const inner = decodeFrame(message.body.body);
      if (!inner.ok) return [];
      message = inner.message;
    }
    const found: Signed[] = [];
    const note: Verifier = (signature, signed, publicKey) => {
      if (!this.known.has(toHex(signature))) found.push({ signature, message: signed, publicKey });
      return true;
    };
    const now = this.now();
    switch (message.type) {
      case 'PUBLISH':
        checkPublication(message.body, now, note);
        break;
      case 'FIND_VALUE_REPLY':
        for (const record of message.body.records) checkRecord(record, now, note);
        break;
      case 'STORE':
        checkRecord(message.body.record, now, note);
    }
    return found;
  }

  /** Check `signed` with WebCrypto and remember the valid ones; resolves when all are done. */
  async check(signed: Signed[]): Promise<void> {
    const results = await Promise.all(signed.map((s) => this.web.verify(s.signature, s.message, s.publicKey)));
    for (const [i, ok] of results.entries()) {
      if (!ok) {
        this.count('signatures.preverifyRefused');
        continue;
      }
      const s = signed[i]!;
      this.count('signatures.preverified');
      this.memo.rememberValid(s.signature, s.message, s.publicKey);
      if (this.known.size >= KNOWN_VALID) this.known.clear();
      this.known.add(toHex(s.signature));
    }
  }
}
