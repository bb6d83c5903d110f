// simple-peer's prebuilt browser bundle is the same class as its CommonJS entry; only the
// entry is typed (by @types/simple-peer).
declare module 'simple-peer/simplepeer.min.js' {
  import SimplePeer = require('simple-peer');
  export = SimplePeer;
}
