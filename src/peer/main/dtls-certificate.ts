/**
 * One DTLS certificate for all of a tab's connections, made as the peer starts
 * (docs/ARCHITECTURE.md, Joining). Without one in its configuration, every RTCPeerConnection
 * makes a key pair of its own before it can write its offer or answer: on the way to a tab's
 * first channel that was a step of its own (BENCHMARKS.md, Browser: join), on both sides. Made
 * beside the identity and the relay's handshake, it is ready before the first dial.
 *
 * Sharing it costs nothing the design relies on: what authenticates a channel is the DTLS
 * fingerprint inside the SDP, and the SDP travels signed by the tab's node key, so the peer
 * at the other end knows the tab by its node id either way. A certificate that expires
 * within a day is replaced (browsers make them valid for about 30 days); until the new one is
 * there, connections make their own, as they would without this.
 */

/** What every browser generates and accepts: ECDSA on P-256, as RTCPeerConnection does by default. */
const KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const RENEW_BEFORE_MS = 24 * 3_600_000;

export type GenerateCertificate = () => Promise<RTCCertificate>;

export class DtlsCertificate {
  private current: RTCCertificate | undefined;
  private making = false;

  /** `generate` undefined: the platform cannot make one (connections then make their own). */
  constructor(
    private readonly generate: GenerateCertificate | undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.renew();
  }

  /** `config` with the shared certificate when one is ready and valid for a while yet; else as it is. */
  apply(config: RTCConfiguration): RTCConfiguration {
    const certificate = this.current;
    if (certificate === undefined || certificate.expires - this.now() < RENEW_BEFORE_MS) {
      this.renew();
      return config;
    }
    return { ...config, certificates: [certificate] };
  }

  private renew(): void {
    if (this.making || this.generate === undefined) return;
    this.making = true;
    let made: Promise<RTCCertificate>;
    try {
      made = this.generate();
    } catch {
      made = Promise.reject(new Error('no certificate'));
    }
    made.then(
      (certificate) => {
        this.current = certificate;
        this.making = false;
      },
      // Refused (an old browser, a policy): connections keep making their own; try again at the next one.
      () => (this.making = false),
    );
  }
}

/** The page's generator, where RTCPeerConnection has one. */
export function pageCertificates(): DtlsCertificate {
  const Pc = (globalThis as { RTCPeerConnection?: typeof RTCPeerConnection }).RTCPeerConnection;
  return new DtlsCertificate(
    typeof Pc?.generateCertificate === 'function' ? () => Pc.generateCertificate(KEY) : undefined,
  );
}
