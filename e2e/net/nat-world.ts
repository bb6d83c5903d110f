/**
 * A small internet inside this machine, out of network namespaces (needs root): an
 * "internet" namespace with a bridge at 198.18.0.1/24 where the relay and coturn listen,
 * and homes, each a namespace behind its own router namespace that masquerades the home's
 * 198.19.<i>.0/24 onto its WAN address 198.18.0.<10+i>. Nothing routes out of the
 * namespaces, so no packet leaves the machine; all addresses are from the benchmarking
 * range 198.18.0.0/15 (RFC 2544).
 *
 * Each router is a home router: it forwards and masquerades outgoing traffic and drops new
 * inbound connections on its WAN side. That drop matters on the input hook too: without
 * it, the other peer's first hole-punching packet, arriving before our own packet to it,
 * makes a conntrack entry of its own that pushes our outgoing flow onto another port, and
 * STUN alone fails even between port-preserving NATs.
 *
 * - `preserving` NAT: plain masquerade, which keeps the home's source port when it is free
 *   (endpoint-independent mapping: the port STUN saw is the one a peer can reach);
 * - `symmetric` NAT: masquerade with random ports, a new mapping per destination, so the
 *   port STUN saw is useless to a peer and only TURN gets through.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type NatKind = 'preserving' | 'symmetric';

export interface Home {
  /** Namespace the home's browser runs in. */
  netns: string;
  router: string;
  nat: NatKind;
  lanIp: string;
  /** The router's public address: what STUN reports for this home. */
  wanIp: string;
  /** An executable that runs Chromium inside the home's namespace (Playwright's executablePath). */
  chromium: string;
}

export interface NatWorld {
  /** Namespace of the "internet": run the relay and coturn here. */
  internet: string;
  /** Address of the internet side's bridge, where its services listen. */
  publicIp: string;
  homes: Home[];
  teardown(): void;
}

/** Every namespace this harness makes starts with this, so a crashed run's leftovers can be found and removed. */
const PREFIX = 'macula-nat-';
const PUBLIC_IP = '198.18.0.1';

const run = (...args: string[]): void =>
  void execFileSync(args[0]!, args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
const inNs = (ns: string, ...args: string[]): void => run('ip', 'netns', 'exec', ns, ...args);

/** Remove this harness's namespaces (and so their interfaces), current or left over from an interrupted run. */
export function removeNatNamespaces(): void {
  const listed = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  for (const line of listed.split('\n')) {
    const name = line.split(' ')[0];
    if (name?.startsWith(PREFIX)) {
      try {
        run('ip', 'netns', 'del', name);
      } catch {
        // Already gone.
      }
    }
  }
}

export function buildNatWorld(kinds: NatKind[], chromiumPath: string): NatWorld {
  removeNatNamespaces();
  const scripts = mkdtempSync(join(tmpdir(), 'macula-nat-'));
  const teardown = (): void => {
    removeNatNamespaces();
    rmSync(scripts, { recursive: true, force: true });
  };
  try {
    const internet = `${PREFIX}internet`;
    run('ip', 'netns', 'add', internet);
    run('ip', '-n', internet, 'link', 'set', 'lo', 'up');
    run('ip', '-n', internet, 'link', 'add', 'br0', 'type', 'bridge');
    run('ip', '-n', internet, 'addr', 'add', `${PUBLIC_IP}/24`, 'dev', 'br0');
    run('ip', '-n', internet, 'link', 'set', 'br0', 'up');
    const homes = kinds.map((nat, i) => buildHome(internet, i + 1, nat, chromiumPath, scripts));
    return { internet, publicIp: PUBLIC_IP, homes, teardown };
  } catch (e) {
    teardown();
    throw e;
  }
}

function buildHome(internet: string, i: number, nat: NatKind, chromiumPath: string, scripts: string): Home {
  const router = `${PREFIX}router${i}`;
  const netns = `${PREFIX}home${i}`;
  const wanIp = `198.18.0.${10 + i}`;
  const lanIp = `198.19.${i}.2`;
  for (const ns of [router, netns]) {
    run('ip', 'netns', 'add', ns);
    run('ip', '-n', ns, 'link', 'set', 'lo', 'up');
  }
  // WAN: the router's "wan" plugged into the internet's bridge.
  run('ip', 'link', 'add', 'wan', 'netns', router, 'type', 'veth', 'peer', 'name', `port${i}`, 'netns', internet);
  run('ip', '-n', internet, 'link', 'set', `port${i}`, 'master', 'br0', 'up');
  run('ip', '-n', router, 'addr', 'add', `${wanIp}/24`, 'dev', 'wan');
  run('ip', '-n', router, 'link', 'set', 'wan', 'up');
  // LAN: the router's "lan" to the home's "eth0"; the home's default route is the router.
  run('ip', 'link', 'add', 'lan', 'netns', router, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns);
  run('ip', '-n', router, 'addr', 'add', `198.19.${i}.1/24`, 'dev', 'lan');
  run('ip', '-n', router, 'link', 'set', 'lan', 'up');
  run('ip', '-n', netns, 'addr', 'add', `${lanIp}/24`, 'dev', 'eth0');
  run('ip', '-n', netns, 'link', 'set', 'eth0', 'up');
  run('ip', '-n', netns, 'route', 'add', 'default', 'via', `198.19.${i}.1`);
  inNs(router, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
  const rules = [
    'table ip nat {',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    oifname "wan" masquerade${nat === 'symmetric' ? ' random' : ''}`,
    '  }',
    '}',
    'table inet firewall {',
    '  chain input {',
    '    type filter hook input priority filter; policy accept;',
    '    iifname "wan" ct state new drop',
    '  }',
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    '    iifname "wan" ct state new drop',
    '  }',
    '}',
  ].join('\n');
  const rulesFile = join(scripts, `router${i}.nft`);
  writeFileSync(rulesFile, rules);
  inNs(router, 'nft', '-f', rulesFile);
  const chromium = join(scripts, `chromium-home${i}`);
  writeFileSync(chromium, `#!/bin/sh\nexec ip netns exec ${netns} ${chromiumPath} "$@"\n`);
  chmodSync(chromium, 0o755);
  return { netns, router, nat, lanIp, wanIp, chromium };
}
