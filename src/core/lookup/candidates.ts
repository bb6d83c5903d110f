import { commonPrefixLength, compareDistance, idsEqual, prefixOf, toHex, type NodeId } from '../id.js';

/**
 * What a lookup knows about the nodes near its target, and how far it trusts it.
 *
 * An id named in someone's reply is only a candidate: nobody has shown it exists, let
 * alone that it holds the key it claims (a colluder names made-up ids closer to the target
 * than any real node). A candidate becomes usable only by answering the lookup itself.
 * Every candidate remembers who named it; a referrer whose named ids do not answer is
 * discredited, and what only discredited referrers vouched for is dropped unasked, so a
 * liar's made-up ids cost one round of timeouts, not a timeout each. A node that named an
 * id implausibly close to the target (made up, not stale) loses its own answer too: it is
 * not among the closest a lookup returns (STOREs do not go to it), and its "I hold no
 * record" is not believed. The node hears of each discredit, so later lookups start out
 * knowing the liars (liars.ts).
 */
export type CandidateState = 'named' | 'asked' | 'answered' | 'silent';

interface Candidate {
  readonly id: NodeId;
  readonly hex: string;
  state: CandidateState;
  /** Hex ids of the nodes that named it; SELF for our own routing table and channels. */
  readonly referrers: Set<string>;
  /** The next candidate whose id starts with the same 32 bits (Candidates.byWord). */
  sameWord: Candidate | undefined;
}

export const SELF = 'self';
/** Named ids that stayed silent before their referrer is no longer believed. */
const STRIKES_TO_DISCREDIT = 2;
/** At most this many ids resting on one referrer's word alone are being asked at once. */
const PER_REFERRER_IN_FLIGHT = 2;

export class Candidates {
  private readonly all = new Map<string, Candidate>();
  /**
   * The same candidates by their id's first 32 bits (a chain through `sameWord` where several
   * share them: a liar's made-up ids may all start like the target). An answer's ~20 ids are
   * looked up here by their bytes, and turned into hex only when new: most are named again
   * by answer after answer, and hex for each was a lookup's largest cost per answer.
   */
  private readonly byWord = new Map<number, Candidate>();
  /** Every candidate, closest first; undefined once one joins or leaves (inPlay). */
  private order: Candidate[] | undefined;
  private readonly strikes = new Map<string, number>();
  /** Referrers caught naming a silent id implausibly close to the target. */
  private readonly forgers = new Set<string>();
  private readonly discredited = new Set<string>();

  /**
   * `knownLiar`: nodes an earlier lookup caught (liars.ts), out of play from the start;
   * `onForgery`: told of each node caught naming a silent id that shares at least
   * `implausibleBits` leading bits with the target (no genuine id is that close: it was
   * made up).
   */
  constructor(
    private readonly target: NodeId,
    private readonly selfHex: string,
    private readonly knownLiar: (hex: string) => boolean = () => false,
    private readonly onForgery: (hex: string) => void = () => undefined,
    private readonly implausibleBits = Infinity,
  ) {}

  /** `by` named `id` (SELF: we know it ourselves). */
  named(hex: string, id: NodeId, by: string): void {
    if (hex === this.selfHex || this.isDiscredited(by)) return;
    const c = this.all.get(hex);
    if (c === undefined) this.add({ id, hex, state: 'named', referrers: new Set([by]), sameWord: undefined });
    else c.referrers.add(by);
  }

  /** `by` named each of `ids` (an answer's nodes): named() for each, the hex made only for ids new to this lookup. */
  namedAll(ids: readonly NodeId[], by: string): void {
    if (this.isDiscredited(by)) return;
    for (const id of ids) {
      const c = this.withId(id);
      if (c !== undefined) {
        c.referrers.add(by);
        continue;
      }
      const hex = toHex(id);
      if (hex !== this.selfHex) this.add({ id, hex, state: 'named', referrers: new Set([by]), sameWord: undefined });
    }
  }

  /** `id` as hex: a candidate's own, else made afresh. */
  hexOf(id: NodeId): string {
    return this.withId(id)?.hex ?? toHex(id);
  }

  /** The node answered from its own id: from now on it is a usable contact. */
  answered(hex: string, id: NodeId): void {
    if (hex === this.selfHex) return;
    const c = this.all.get(hex);
    if (c === undefined) this.add({ id, hex, state: 'answered', referrers: new Set(), sameWord: undefined });
    else c.state = 'answered';
  }

  asked(hex: string): void {
    const c = this.all.get(hex);
    if (c !== undefined && c.state === 'named') c.state = 'asked';
  }

  /** Asked and never answered: dropped, and a strike against every node that named it. */
  silent(hex: string): void {
    const c = this.all.get(hex);
    if (c === undefined || c.state === 'answered') return;
    c.state = 'silent';
    const implausible = !idsEqual(c.id, this.target) && commonPrefixLength(c.id, this.target) >= this.implausibleBits;
    for (const by of [...c.referrers]) {
      if (by === SELF) continue;
      const strikes = (this.strikes.get(by) ?? 0) + 1;
      this.strikes.set(by, strikes);
      // One made-up id is proof enough; a plausible one may just have left.
      if (implausible && !this.forgers.has(by)) {
        this.forgers.add(by);
        this.onForgery(by);
      }
      if (implausible || strikes >= STRIKES_TO_DISCREDIT) this.discredit(by);
    }
  }

  /** The nodes that vouched for `hex` and are still believed (SELF not included). */
  referrersOf(hex: string): string[] {
    const c = this.all.get(hex);
    return c === undefined ? [] : [...c.referrers].filter((by) => by !== SELF && !this.isDiscredited(by));
  }

  /**
   * Caught making an id up (now or by an earlier lookup): unlike a node that merely named
   * silent ids (stale contacts, or ids whose routes a colluder dropped), its own answer
   * is not believed either.
   */
  private isForger(hex: string): boolean {
    return this.forgers.has(hex) || this.knownLiar(hex);
  }

  isDiscredited(hex: string): boolean {
    return this.discredited.has(hex) || (hex !== SELF && this.knownLiar(hex));
  }

  state(hex: string): CandidateState | undefined {
    return this.all.get(hex)?.state;
  }

  /**
   * The next ids to ask: unasked candidates among the `depth` closest still in play, at
   * most `width`, and at most PER_REFERRER_IN_FLIGHT resting on any single referrer,
   * counting those already asked and not yet settled.
   */
  nextToAsk(depth: number, width: number): Array<{ hex: string; id: NodeId }> {
    const picked: Candidate[] = [];
    const load = new Map<string, number>();
    const inPlay = this.inPlay();
    for (const c of inPlay) {
      const sole = c.state === 'asked' && c.referrers.size === 1 ? [...c.referrers][0]! : undefined;
      if (sole !== undefined) load.set(sole, (load.get(sole) ?? 0) + 1);
    }
    for (const c of inPlay.slice(0, depth)) {
      if (picked.length >= width) break;
      if (c.state !== 'named') continue;
      const sole = c.referrers.size === 1 ? [...c.referrers][0]! : undefined;
      if (sole !== undefined && sole !== SELF) {
        const used = load.get(sole) ?? 0;
        if (used >= PER_REFERRER_IN_FLIGHT) continue;
        load.set(sole, used + 1);
      }
      picked.push(c);
    }
    return picked.map((c) => ({ hex: c.hex, id: c.id }));
  }

  /** True when the `depth` closest candidates still in play have all answered. */
  settled(depth: number): boolean {
    return this.inPlay()
      .slice(0, depth)
      .every((c) => c.state === 'answered');
  }

  /** Waiting for `asked` ones: none of the closest `depth` is still unasked. */
  hasUnasked(depth: number): boolean {
    return this.inPlay()
      .slice(0, depth)
      .some((c) => c.state === 'named');
  }

  /** The closest nodes that answered themselves, closest first (hex); `self` takes its place among them. */
  closestAnswered(count: number, self?: NodeId): string[] {
    const answered = this.inPlay().filter((c) => c.state === 'answered');
    if (self !== undefined) {
      const at = answered.findIndex((c) => compareDistance(this.target, self, c.id) < 0);
      const me: Candidate = {
        id: self,
        hex: this.selfHex,
        state: 'answered',
        referrers: new Set(),
        sameWord: undefined,
      };
      answered.splice(at < 0 ? answered.length : at, 0, me);
    }
    return answered.slice(0, count).map((c) => c.hex);
  }

  /** The closest candidates whatever their proof (for lookups that only explore). */
  closestAny(count: number): string[] {
    return this.inPlay()
      .slice(0, count)
      .map((c) => c.hex);
  }

  /**
   * Ids worth remembering as contacts once the lookup is over: those that answered, and
   * those never asked that two nodes this lookup still believes named. The latter enter
   * the routing table unheard, i.e. as candidates there too: a channel to them needs their
   * signed signaling, and no lookup uses them before they answer it. One asked and not
   * answered yet (a late query the lookup stopped waiting for) is not believed: it may
   * have left, and its referrers may not have noticed.
   */
  believable(): NodeId[] {
    return this.inPlay()
      .filter(
        (c) =>
          c.state === 'answered' || (c.state === 'named' && [...c.referrers].filter((by) => by !== SELF).length >= 2),
      )
      .map((c) => c.id);
  }

  /**
   * Candidates still in play, closest first. The order of all of them is kept until one
   * joins or leaves (states and forgers change more often, and cost only the filter):
   * every step of a lookup asks, and sorting them all each time was a lookup's own largest cost.
   */
  private inPlay(): Candidate[] {
    const order = (this.order ??= [...this.all.values()].sort((a, b) => compareDistance(this.target, a.id, b.id)));
    return order.filter((c) => c.state !== 'silent' && !this.isForger(c.hex));
  }

  private discredit(by: string): void {
    if (this.discredited.has(by)) return;
    this.discredited.add(by);
    for (const c of this.all.values()) {
      if (c.state === 'answered') continue;
      c.referrers.delete(by);
      if (c.referrers.size === 0) this.remove(c);
    }
  }

  private add(c: Candidate): void {
    this.order = undefined;
    this.all.set(c.hex, c);
    const word = prefixOf(c.id) | 0;
    c.sameWord = this.byWord.get(word);
    this.byWord.set(word, c);
  }

  private remove(c: Candidate): void {
    this.order = undefined;
    this.all.delete(c.hex);
    const word = prefixOf(c.id) | 0;
    const first = this.byWord.get(word)!;
    if (first === c) {
      if (c.sameWord === undefined) this.byWord.delete(word);
      else this.byWord.set(word, c.sameWord);
      return;
    }
    let before = first;
    while (before.sameWord !== c) before = before.sameWord!;
    before.sameWord = c.sameWord;
  }

  private withId(id: NodeId): Candidate | undefined {
    for (let c = this.byWord.get(prefixOf(id) | 0); c !== undefined; c = c.sameWord) if (idsEqual(c.id, id)) return c;
    return undefined;
  }
}
