/**
 * Which e2e projects this machine can run, and for each one it cannot, what to install.
 * `npm test` runs what it can and names the rest loudly; with CI=true a skipped suite
 * fails the run, so a CI image that lost Firefox or coturn cannot pass by accident.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface Suite {
  project: string;
  what: string;
  /** Why it cannot run here, with the remedy; null when it can. */
  missing: string | null;
}

const onPath = (bin: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** Creating a namespace is the real test of the privilege (root without CAP_SYS_ADMIN cannot). */
function canMakeNamespaces(): boolean {
  if (process.getuid?.() !== 0 || !onPath('ip')) return false;
  const name = `macula-probe-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', name], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function canImport(name: string): Promise<boolean> {
  try {
    await import(name);
    return true;
  } catch {
    return false;
  }
}

export async function e2eSuites(): Promise<Suite[]> {
  const firefox = process.env['FIREFOX_PATH'] || '/usr/bin/firefox-esr';
  const turn = onPath('turnserver');
  const nat: string[] = [];
  if (!canMakeNamespaces())
    nat.push(
      'root with network namespaces (`ip netns add` must work: run as root, or in a container with CAP_SYS_ADMIN and CAP_NET_ADMIN)',
    );
  if (!onPath('nft')) nat.push('nftables: sudo apt-get install -y nftables');
  if (!turn) nat.push('coturn: sudo apt-get install -y coturn');
  return [
    {
      project: 'chromium',
      what: 'Chromium tabs: registry, calls, pub/sub, demo, faults, TLS',
      missing: onPath('openssl') ? null : "openssl (for the TLS test's certificate): sudo apt-get install -y openssl",
    },
    {
      project: 'federation',
      what: 'three relays with their own Node peers, joined in a chain, and a Node provider (e2e/federation.spec.ts)',
      // The relays' own peers are Node peers: WebRTC in Node comes from the optional @roamhq/wrtc.
      missing: (await canImport('@roamhq/wrtc')) ? null : "@roamhq/wrtc (the Node peer's WebRTC): npm ci",
    },
    {
      project: 'turn',
      what: 'TURN through coturn with credentials from the relay (e2e/net/turn.spec.ts)',
      missing: turn ? null : 'coturn: sudo apt-get install -y coturn',
    },
    {
      project: 'firefox',
      what: 'Firefox ESR with Chromium in one mesh (e2e/firefox)',
      missing: !existsSync(firefox)
        ? `Firefox at ${firefox}: sudo apt-get install -y firefox-esr (or set FIREFOX_PATH)`
        : !(await canImport('puppeteer-core'))
          ? 'puppeteer-core: npm ci'
          : null,
    },
    {
      project: 'nat',
      what: 'browsers behind NATs in network namespaces (e2e/net/nat.spec.ts)',
      missing: nat.length === 0 ? null : nat.join('; '),
    },
  ];
}
