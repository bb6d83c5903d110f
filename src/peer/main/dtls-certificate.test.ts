import { describe, expect, it } from 'vitest';
import { DtlsCertificate } from './dtls-certificate.js';

const DAY = 24 * 3_600_000;
const config: RTCConfiguration = { iceServers: [{ urls: ['stun:example.org'] }], iceTransportPolicy: 'all' };
const certificate = (expires: number): RTCCertificate => ({ expires }) as unknown as RTCCertificate;
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

describe('DtlsCertificate', () => {
  it('adds the certificate to every configuration once it is made, and leaves the rest as given', async () => {
    let now = 1_000;
    let made = 0;
    const cert = certificate(now + 30 * DAY);
    const shared = new DtlsCertificate(
      () => (made++, Promise.resolve(cert)),
      () => now,
    );
    expect(made).toBe(1); // made at once, not at the first connection
    expect(shared.apply(config)).toBe(config); // not there yet: the connection makes its own
    await settle();
    const first = shared.apply(config);
    expect(first).toEqual({ ...config, certificates: [cert] });
    expect(config).not.toHaveProperty('certificates');
    now += 10 * DAY;
    expect(shared.apply(config).certificates).toEqual([cert]);
    expect(made).toBe(1);
  });

  it('makes a new one when the shared one expires within a day, and uses none meanwhile', async () => {
    let now = 0;
    const certs = [certificate(30 * DAY), certificate(60 * DAY)];
    let made = 0;
    const shared = new DtlsCertificate(
      () => Promise.resolve(certs[made++]!),
      () => now,
    );
    await settle();
    now = 29.5 * DAY;
    expect(shared.apply(config)).toBe(config);
    expect(shared.apply(config)).toBe(config); // one renewal at a time
    expect(made).toBe(2);
    await settle();
    expect(shared.apply(config).certificates).toEqual([certs[1]]);
  });

  it('falls back to per-connection certificates when the platform cannot make one', async () => {
    const none = new DtlsCertificate(undefined);
    await settle();
    expect(none.apply(config)).toBe(config);
    let tries = 0;
    const refusing = new DtlsCertificate(() => {
      tries++;
      return Promise.reject(new Error('NotSupportedError'));
    });
    await settle();
    expect(refusing.apply(config)).toBe(config);
    expect(tries).toBe(2); // tried again at the connection, which does without
    const throwing = new DtlsCertificate(() => {
      throw new Error('sync');
    });
    await settle();
    expect(throwing.apply(config)).toBe(config);
  });
});
