/*
 * The pure-JS Ed25519 (@noble/curves, through core/identity.ts) as the page loads it: on
 * demand, in a chunk of its own (async-ed25519.ts imports this module dynamically). A page
 * whose browser has WebCrypto's Ed25519 never fetches or parses it; one without it, or one
 * that meets a seed the platform refuses or a signature it finds invalid, loads it then.
 * The worker and Node import core/identity.ts statically, as the core does.
 */
export { identityFromSecretKey, sign, verify } from '../core/identity.js';
