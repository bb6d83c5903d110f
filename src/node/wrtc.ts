import { ErrorCode, MeshError } from '../core/errors.js';

/**
 * WebRTC in Node comes from @roamhq/wrtc (libwebrtc, prebuilt per platform), an optional
 * peer dependency: an app that only uses the browser entry never installs a native module,
 * so the Node entry loads it lazily, once per process, and says what to install when it
 * is missing. Why this package and not node-datachannel: docs/ARCHITECTURE.md, "The Node peer".
 */
export const WRTC_PACKAGE = '@roamhq/wrtc';

/** The RTCPeerConnection family simple-peer takes as its `wrtc` option (kept opaque: no public type names it). */
export type WrtcImplementation = { readonly RTCPeerConnection: unknown };

export type WrtcImporter = () => Promise<unknown>;

const importWrtc: WrtcImporter = () => import('@roamhq/wrtc');
let loaded: Promise<WrtcImplementation> | undefined;

/** The process's WebRTC implementation; rejects with MISSING_DEPENDENCY when the package is not installed. */
export function loadWrtc(importer: WrtcImporter = importWrtc): Promise<WrtcImplementation> {
  if (importer !== importWrtc) return load(importer);
  loaded ??= load(importer).catch((e: unknown) => {
    loaded = undefined; // installed later (a long-lived process): try again next time
    throw e;
  });
  return loaded;
}

async function load(importer: WrtcImporter): Promise<WrtcImplementation> {
  let module: unknown;
  try {
    module = await importer();
  } catch (e) {
    const code = (e as { code?: unknown } | null)?.code;
    const message = (e as Error | null)?.message ?? String(e);
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new MeshError(
        ErrorCode.MISSING_DEPENDENCY,
        `the Node peer needs WebRTC from the optional package ${WRTC_PACKAGE}: npm install ${WRTC_PACKAGE}`,
        { package: WRTC_PACKAGE },
      );
    }
    // Installed, but its native binary did not load (no prebuild for this platform, a broken install).
    throw new MeshError(
      ErrorCode.MISSING_DEPENDENCY,
      `${WRTC_PACKAGE} is installed but did not load (${message}); reinstall it, on a platform it has a prebuilt binary for`,
      { package: WRTC_PACKAGE },
    );
  }
  // CommonJS: the implementation is the default export.
  const candidate = (module as { default?: unknown }).default ?? module;
  if (typeof (candidate as { RTCPeerConnection?: unknown } | null)?.RTCPeerConnection !== 'function') {
    throw new MeshError(ErrorCode.MISSING_DEPENDENCY, `${WRTC_PACKAGE} did not provide an RTCPeerConnection`, {
      package: WRTC_PACKAGE,
    });
  }
  return candidate as WrtcImplementation;
}
