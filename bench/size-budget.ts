/**
 * What the package may weigh. The consumer tier (scripts/test-consumers.ts) holds a Vite
 * app's build of the package to it, and `npm run bench:size` reports against it.
 * Set at about 10% above the sizes measured when the package was first built (main
 * 50.8 kB, worker 49.0 kB gzip in a Vite app; tarball 386 kB): growth past it is a decision,
 * not an accident.
 */
export const SIZE_BUDGET = {
  /**
   * The main-thread entry as an app ships it (minified), gzip bytes. Raised from 56 kB when the
   * offer-flood gate, signal stamps, ICE configuration and the database sweeper landed (56.2 kB).
   * Raised to 64 kB when the page took WebCrypto's Ed25519 for its key and the relay's signals
   * (with the pure-JS fallback kept), start-up marks and peer kinds (60.1 kB).
   * Raised to 68 kB when the page began answering a neighbour's CALL itself (two thread
   * crossings fewer per call: it writes the REPLY with MessagePack's encoder, 3.5 kB) and
   * answering offers "busy" at its cap (about 64 kB in a Vite app, 66.5 kB by bench:size).
   * Raised to 72 kB when the page began settling the app's calls from their REPLYs itself (one
   * worker wake-up fewer per call: it reads the REPLY with MessagePack's decoder, 3.5 kB, and
   * the page's side of it, 0.6 kB; 70.6 kB by bench:size).
   * Lowered to 68 kB when the page began loading the pure-JS Ed25519 (@noble/curves, SHA-512)
   * only where WebCrypto has no Ed25519, as a chunk of its own (72.0 -> 64.3 kB in a Vite app,
   * 74.7 -> 66.3 kB by bench:size; the chunk 8.7 kB, loaded on demand, has no budget).
   * Raised to 70 kB in session 18 when the requester's page began settling forced discoveries
   * from their lookup's first answer (no worker wake-up at the end of a discovery: the page
   * checks the answer's records with the core's checkRecord and the metadata's canonical form,
   * 3.9 kB minified, and its side of the exchange, 2.6 kB): 69.1 kB in the Vite app. Kept after
   * session 19's quiet pairs: discoveries spaced 30 ms apart 0.5-2.2 ms faster, back-to-back ones
   * no faster (BENCHMARKS.md, Cold discovery on 2026-12-07 (session 18)).
   */
  mainGzip: 70 * 1024,
  /**
   * The worker as an app ships it (minified), gzip bytes. Raised from 56 kB when the worker
   * checked signed frames with WebCrypto's Ed25519 before the core (preverify; 57.8 kB).
   * Raised to 62 kB when the worker handed neighbours' CALLs to the page, nodes kept the
   * contacts that answer "busy", and lookups learned when their paths can add nothing
   * (60.0 kB by bench:size).
   * Raised to 64 kB when a simulated node's memory was cut (one record per neighbour, counts
   * in slots, the router's host as a class) and the page took publications from the worker's
   * hands (62.5 kB in a Vite app): bytes of code bought for 27% less memory per node.
   * Raised to 66 kB when the worker began keeping the page's copy of providers, neighbours and
   * reserved request ids (the page sends a call's first CALL: 63.8 kB) and the core's routing
   * contacts moved into typed arrays by slot (65.0 kB in a Vite app).
   * Raised to 68 kB in session 16 when the provider's page began admitting CALLs (the worker's
   * grants, 0.8 kB) and the core's per-event work was cut for the simulator (the neighbours'
   * prefixes side by side, contacts ordered by the bytes kept in their slots, a waiting request
   * as one object, envelopes read in place: 65.8 → 67.2 kB in a Vite app); the same session cut
   * the page's main bundle by 7.7 kB and the tarball by a fifth.
   * Raised to 70 kB in session 17 when the worker began keeping its page a copy of what it
   * answers a FIND_VALUE with (the answering tab's page answers a neighbour's one-hop lookup) and
   * of each topic's subscribers (the publisher's page signs and sends a publish): 67.2 → 68.8 kB
   * in a Vite app. Kept: on a quiet machine neither shows an end-to-end gain (session 19: forced
   * discoveries with the answering pages' answers switched off were no slower, three alternated
   * pairs), but under load the step they remove took 15-20 ms at p50 against 0.3 ms
   * (BENCHMARKS.md, Cold discovery on 2026-12-07 (session 17); session 19's pair in "Cold
   * discovery on 2026-12-08 (session 19)"), and a user's machine is a loaded one.
   */
  workerGzip: 70 * 1024,
  /**
   * The npm tarball. Raised from 420 kB when STUN/TURN, TLS, signed signal stamps and the
   * Deploying part of the README landed (445 kB): features a deployment needs, bought on purpose.
   * Raised again to 640 kB for the Node peer (608 kB): dist/node/node.js carries its own copy of
   * the core, the worker's API, simple-peer and the crypto (474 kB raw, 130 kB gzip), because
   * the Node build inlines everything but ws, as the browser build does.
   * Raised to 700 kB when relays became DHT peers and joined into one mesh, publishes were
   * signed, peers learned to leave gracefully and count every frame (657.5 kB): the Node and
   * browser builds ship unminified (readable stack traces for a server), which is most of the weight.
   * Raised to 740 kB when calls were answered on the page, offers at the cap answered "busy",
   * lookups ended early, offers went by their introducer and snapshots restored in batches (728 kB
   * packed by the consumer tier, 711 kB by bench:size): the same features ship in
   * both unminified builds.
   * Raised to 790 kB when the page began settling calls and counting publish acknowledgements
   * (MessagePack's decoder now in the page's build), the flood guard kept its rows in tables, the
   * relay socket opened beside the identity and the connection manager split in four (766 kB
   * packed by the consumer tier, 731 kB at the commit before): dist/browser/index.js grew 34 kB
   * raw, the Node build 31 kB, the worker 17 kB and the demo 22 kB, all of it this code.
   * Raised to 810 kB when the requester's page began sending a call's first CALL itself (one
   * worker wake-up fewer per call, on the requester's side: 786 → 805.2 kB packed by the
   * consumer tier): the page's and the worker's sides of it ship in every unminified build
   * (dist/browser/index.js about +12 kB raw, the worker +10 kB, the Node build's shared chunk
   * +22 kB, the demo +8 kB), comments included.
   * Raised to 830 kB when the core's per-node memory was cut to 34.6 KB a simulated node (routing
   * contacts in typed arrays by slot, remembered routes in arrays, flood rows in the neighbour
   * record) and its per-event work to 34.8 µs at 10,000 nodes (805.2 → 815.2 kB packed by the
   * consumer tier): the core ships in the worker, the page and the Node build, unminified.
   * Raised to 840 kB in session 16, which moved the page's pure-JS Ed25519 into a chunk loaded on
   * demand (the page's main budget lowered from 72 to 68 kB with it), and made the provider's
   * page admit CALLs, the first dial prepared before the relay's welcome and the simulator's
   * routing, lookups and garbage cheaper (815.2 → 831.8 kB packed): the chunk files and the
   * split modules' types are about 2.4 kB of it, the rest is this code in the unminified builds.
   * Lowered to 700 kB in the same session: the builds stay unminified but ship without the
   * source's doc comments (vite.lib.config.ts; they ship once, in dist/types), 843.4 → 669.3 kB.
   * Raised to 720 kB in session 18 when the requester's page began settling forced discoveries
   * from their lookup's first answer (the page's record check and its side of the exchange, in
   * the browser and Node builds and their types: 702.6 kB packed).
   */
  tarball: 720 * 1024,
} as const;

export const kB = (bytes: number): string => `${(bytes / 1024).toFixed(1)} kB`;
