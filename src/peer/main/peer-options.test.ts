import { describe, expect, it } from 'vitest';
import { ErrorCode, isMeshError } from '../../core/errors.js';
import { commonOf, resolveWorkerUrl, validatePeerOptions, type PeerOptions } from './peer-options.js';

const PAGE = 'https://app.example/shop/index.html';

function invalid(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (isMeshError(e) && e.code === ErrorCode.INVALID_ARGUMENT) return e.message;
    throw e;
  }
  return undefined;
}

describe('workerUrl option', () => {
  it('resolves relative and absolute same-origin URLs against the page', () => {
    expect(resolveWorkerUrl('/static/macula-worker.js', PAGE)).toBe('https://app.example/static/macula-worker.js');
    expect(resolveWorkerUrl('worker.js', PAGE)).toBe('https://app.example/shop/worker.js');
    expect(resolveWorkerUrl(new URL('https://app.example/w.js'), PAGE)).toBe('https://app.example/w.js');
  });

  it('accepts blob: and data: URLs, which a CDN-hosted app builds itself', () => {
    expect(resolveWorkerUrl('blob:https://app.example/1b2c', PAGE)).toBe('blob:https://app.example/1b2c');
    expect(resolveWorkerUrl('data:text/javascript,1', PAGE)).toBe('data:text/javascript,1');
  });

  it('refuses other origins, other schemes and non-URLs, naming the option', () => {
    for (const bad of ['https://cdn.example/worker.js', 'ftp://app.example/w.js', 'javascript:1', 42, null, {}]) {
      expect(
        invalid(() => resolveWorkerUrl(bad, PAGE)),
        String(bad),
      ).toMatch(/^workerUrl: expected a same-origin/);
    }
    expect(invalid(() => resolveWorkerUrl('/w.js', undefined))).toMatch(/^workerUrl:/);
  });

  it('is optional, and validated with the other options', () => {
    expect(validatePeerOptions({ bootstrap: 'ws://localhost:8787/relay' }).workerUrl).toBeUndefined();
    expect(
      invalid(() => validatePeerOptions({ bootstrap: 'ws://localhost:8787/relay', workerUrl: 7 as unknown as string })),
    ).toMatch(/^workerUrl:/);
    expect(validatePeerOptions({ bootstrap: 'ws://x/relay', workerUrl: 'blob:https://a/1' }).workerUrl).toBe(
      'blob:https://a/1',
    );
  });
});

describe('abandonedStorageTtl option', () => {
  it('takes whole seconds from a minute to a year, and names itself when wrong', () => {
    expect(validatePeerOptions({ bootstrap: 'ws://x/relay', abandonedStorageTtl: 86_400 }).abandonedStorageTtl).toBe(
      86_400,
    );
    for (const bad of [59, 31_536_001, 1.5, '600', -1]) {
      expect(
        invalid(() => validatePeerOptions({ bootstrap: 'ws://x/relay', abandonedStorageTtl: bad as number })),
        String(bad),
      ).toMatch(/^abandonedStorageTtl:/);
    }
  });
});

describe('serviceTtl', () => {
  it('is refused, saying what holds instead, rather than accepted and never applied', () => {
    const message = invalid(() => validatePeerOptions({ bootstrap: 'ws://x/relay', serviceTtl: 300 } as never));
    expect(message).toMatch(/^serviceTtl: not an option: a local service lives until unadvertise\(\) or close\(\)/);
  });
});

describe('defaultTtl option', () => {
  it('takes advertise’s range, [10, 86400] s (subscriptions and advertisements without a ttl use it)', () => {
    expect(validatePeerOptions({ bootstrap: 'ws://x/relay', defaultTtl: 10 }).defaultTtl).toBe(10);
    for (const bad of [9, 1, 86_401]) {
      expect(
        invalid(() => validatePeerOptions({ bootstrap: 'ws://x/relay', defaultTtl: bad })),
        String(bad),
      ).toMatch(/^defaultTtl: expected an integer number of seconds in \[10, 86400\]/);
    }
  });
});

describe('unknown options', () => {
  it('are refused, naming the misspelt option and the ones there are', () => {
    for (const name of ['bootsrap', 'defaultTTL', 'cachettl', 'iceServer']) {
      const message = invalid(() => validatePeerOptions({ bootstrap: 'ws://x/relay', [name]: 1 } as never));
      expect(message, name).toMatch(
        new RegExp(`^${name}: not an option of createPeer \\(they are bootstrap, realm, defaultTtl,`),
      );
    }
  });

  it('every documented option is taken', () => {
    const all: Required<PeerOptions> = {
      bootstrap: 'ws://x/relay',
      realm: 'r',
      defaultTtl: 60,
      cacheTtl: 30,
      k: 8,
      alpha: 2,
      maxNeighbours: 12,
      storage: 'memory',
      iceServers: [],
      iceTransportPolicy: 'relay',
      workerUrl: 'blob:https://a/1',
      abandonedStorageTtl: 3_600,
    };
    expect(validatePeerOptions(all)).toMatchObject({ realm: 'r', defaultTtl: 60, k: 8, iceTransportPolicy: 'relay' });
  });

  it('maxNeighbours is a whole number of channels in [8, 64], handed to the worker and the page alike', () => {
    for (const bad of [7, 65, 8.5, '8', 0]) {
      expect(invalid(() => validatePeerOptions({ bootstrap: 'ws://x/relay', maxNeighbours: bad as never }))).toMatch(
        /^maxNeighbours: expected an integer in \[8, 64\]/,
      );
    }
    const lowest = commonOf(validatePeerOptions({ bootstrap: 'ws://x/relay', maxNeighbours: 8 }));
    expect(lowest.tuning).toEqual({ maxNeighbours: 8 });
    expect(commonOf(validatePeerOptions({ bootstrap: 'ws://x/relay' })).tuning).toEqual({});
  });
});

describe('option errors', () => {
  it('show the offending value, not only its type', () => {
    expect(invalid(() => validatePeerOptions({ bootstrap: 'ws://x/relay', k: 100 }))).toBe(
      'k: expected an integer in [2, 64], got number 100',
    );
    expect(invalid(() => validatePeerOptions({ bootstrap: 'ws://x/relay', cacheTtl: 1.5 }))).toMatch(
      /, got number 1\.5$/,
    );
    expect(invalid(() => validatePeerOptions({ bootstrap: 'ws://x/relay', alpha: true as never }))).toMatch(
      /, got boolean true$/,
    );
    expect(invalid(() => validatePeerOptions({ bootstrap: ['ws://x/relay', 7] as never }))).toMatch(
      /, got an array of 2$/,
    );
  });
});
