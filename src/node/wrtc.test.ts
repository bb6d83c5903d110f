import { describe, expect, it } from 'vitest';
import { loadWrtc, WRTC_PACKAGE } from './wrtc.js';

const failing = (code: string, message: string) => () => Promise.reject(Object.assign(new Error(message), { code }));

describe('loading @roamhq/wrtc', () => {
  it('loads the installed package (a devDependency here)', async () => {
    expect(typeof (await loadWrtc()).RTCPeerConnection).toBe('function');
  });

  it('names the package to install when it is missing', async () => {
    const err = await loadWrtc(failing('ERR_MODULE_NOT_FOUND', `Cannot find package '${WRTC_PACKAGE}'`)).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'MISSING_DEPENDENCY', details: { package: WRTC_PACKAGE } });
    expect((err as Error).message).toContain(`npm install ${WRTC_PACKAGE}`);
  });

  it('says so when the package is there but its binary does not load', async () => {
    await expect(loadWrtc(failing('ERR_DLOPEN_FAILED', 'wrtc.node: invalid ELF header'))).rejects.toMatchObject({
      code: 'MISSING_DEPENDENCY',
      message: expect.stringMatching(/installed but did not load \(wrtc\.node: invalid ELF header\)/),
    });
  });

  it('refuses a module without an RTCPeerConnection', async () => {
    await expect(loadWrtc(() => Promise.resolve({ default: {} }))).rejects.toMatchObject({
      code: 'MISSING_DEPENDENCY',
    });
  });
});
