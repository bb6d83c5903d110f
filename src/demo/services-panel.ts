/**
 * Services: advertise a sample or named service from this tab, see what this tab
 * provides (and withdraw it), discover a name's providers with their metadata, and call
 * one — any provider through call() and a policy, or a chosen one through callTo() —
 * showing the result and how long it took.
 */
import type { CallPolicy, Peer, ProviderInfo, RestoredService } from '../index.js';
import { byId, h, nodeChip, parseJsonField, showJson } from './dom.js';
import type { EventLog } from './event-log.js';
import { ago, shortId } from './ids.js';
import type { KeyNames } from './key-names.js';
import { sampleFor } from './sample-services.js';

export class ServicesPanel {
  private readonly local = byId<HTMLUListElement>('local-services');
  private readonly providers = byId<HTMLUListElement>('providers');
  private readonly discoverSummary = byId('discover-summary');
  private readonly result = byId('call-result');
  private readonly discoverName = byId<HTMLInputElement>('discover-name');
  private readonly callArgs = byId<HTMLInputElement>('call-args');

  constructor(
    private readonly peer: Peer,
    private readonly names: KeyNames,
    private readonly log: EventLog,
  ) {
    byId('advertise-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.advertise();
    });
    byId('discover-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.discover();
    });
    byId('call-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.call(undefined);
    });
    // The call form suggests arguments that suit the service being discovered.
    this.discoverName.addEventListener('change', () => {
      this.callArgs.value = showJson(sampleFor(this.discoverName.value.trim(), '', () => undefined).exampleArgs);
    });
    void this.refreshLocal();
  }

  private async advertise(): Promise<void> {
    const name = byId<HTMLInputElement>('advertise-name').value.trim();
    const ttlText = byId<HTMLInputElement>('advertise-ttl').value.trim();
    await this.names.learn(name);
    try {
      const extra = parseJsonField(byId<HTMLInputElement>('advertise-meta').value, 'Metadata', {});
      if (typeof extra !== 'object' || extra === null || Array.isArray(extra))
        throw new Error('Metadata must be a JSON object');
      const sample = sampleFor(name, this.peer.nodeId, (svc, args) =>
        this.log.add('call', `served ${svc} (args ${showJson(args)})`),
      );
      const metadata = { ...sample.metadata, ...(extra as Record<string, unknown>) };
      await this.peer.advertise(name, sample.handler, { metadata, ...(ttlText ? { ttl: Number(ttlText) } : {}) });
      this.log.add('service', `advertised ${name} with ${showJson(metadata)}`);
    } catch (e) {
      this.log.error(`advertise ${name}`, e);
    }
    await this.refreshLocal();
  }

  private async unadvertise(name: string): Promise<void> {
    try {
      await this.peer.unadvertise(name);
      this.log.add('service', `unadvertised ${name}: its record is removed from the DHT`);
    } catch (e) {
      this.log.error(`unadvertise ${name}`, e);
    }
    await this.refreshLocal();
  }

  private async refreshLocal(): Promise<void> {
    try {
      const [names, restored] = await Promise.all([this.peer.listLocalServices(), this.peer.restoredServices()]);
      const provided = names.sort().map((name) => {
        const button = h(
          'button',
          { type: 'button', class: 'small secondary', 'aria-label': `Unadvertise ${name}` },
          'Unadvertise',
        );
        button.addEventListener('click', () => void this.unadvertise(name));
        return h('li', { 'data-service': name }, h('code', {}, name), button);
      });
      // What this tab advertised before a reload waits for a handler: the demo offers its sample's again.
      const waiting = restored.map((svc) => {
        const again = h(
          'button',
          { type: 'button', class: 'small', 'aria-label': `Advertise ${svc.serviceId} again` },
          'Advertise again',
        );
        again.addEventListener('click', () => void this.readvertise(svc));
        const drop = h(
          'button',
          { type: 'button', class: 'small secondary', 'aria-label': `Drop ${svc.serviceId}` },
          'Drop',
        );
        drop.addEventListener('click', () => void this.unadvertise(svc.serviceId));
        return h(
          'li',
          { 'data-restored': svc.serviceId },
          h('code', {}, svc.serviceId),
          h('span', { class: 'muted small-text' }, 'restored, no handler'),
          again,
          drop,
        );
      });
      this.local.replaceChildren(
        ...(provided.length + waiting.length === 0
          ? [h('li', { class: 'empty' }, 'This tab provides no service yet.')]
          : [...provided, ...waiting]),
      );
    } catch (e) {
      this.log.error('list local services', e);
    }
  }

  /** Hand a restored service its handler back: the sample's, with the metadata and ttl it had. */
  private async readvertise(svc: RestoredService): Promise<void> {
    const sample = sampleFor(svc.serviceId, this.peer.nodeId, (name, args) =>
      this.log.add('call', `served ${name} (args ${showJson(args)})`),
    );
    try {
      await this.peer.advertise(svc.serviceId, sample.handler, { metadata: svc.metadata, ttl: svc.ttl });
      this.log.add('service', `advertised ${svc.serviceId} again (restored after a reload)`);
    } catch (e) {
      this.log.error(`advertise ${svc.serviceId}`, e);
    }
    await this.refreshLocal();
  }

  private async discover(): Promise<void> {
    const name = this.discoverName.value.trim();
    const forceRefresh = byId<HTMLInputElement>('discover-force').checked;
    const started = performance.now();
    await this.names.learn(name);
    this.discoverSummary.textContent = `Looking up ${name}…`;
    try {
      const found = await this.peer.discover(name, { forceRefresh });
      const ms = performance.now() - started;
      this.discoverSummary.textContent = `${found.length} provider${found.length === 1 ? '' : 's'} of ${name} · ${ms.toFixed(1)} ms${forceRefresh ? ' · DHT lookup' : ' · cache first'}`;
      this.showProviders(name, found);
      this.log.add('service', `discovered ${found.length} provider(s) of ${name} in ${ms.toFixed(1)} ms`);
    } catch (e) {
      this.discoverSummary.textContent = `Discovery of ${name} failed.`;
      this.log.error(`discover ${name}`, e);
    }
  }

  private showProviders(name: string, found: ProviderInfo[]): void {
    if (found.length === 0) {
      this.providers.replaceChildren(h('li', { class: 'empty' }, `Nobody provides ${name} right now.`));
      return;
    }
    const now = Date.now();
    this.providers.replaceChildren(
      ...found.map((p) => {
        const button = h(
          'button',
          { type: 'button', class: 'small', 'aria-label': `Call ${name} on ${shortId(p.nodeId)}` },
          'Call this one',
        );
        button.addEventListener('click', () => void this.call(p.nodeId));
        return h(
          'li',
          { class: 'provider', 'data-provider': p.nodeId },
          h(
            'div',
            { class: 'provider-head' },
            nodeChip(p.nodeId, p.nodeId === this.peer.nodeId ? 'this tab' : undefined),
            button,
          ),
          h('code', { class: 'meta' }, showJson(p.metadata)),
          h('span', { class: 'muted small-text' }, `advertised ${ago(now - p.advertisedAt)} · ttl ${p.ttl} s`),
        );
      }),
    );
  }

  /** Call through call() with the chosen policy, or one provider through callTo(). */
  private async call(nodeId: string | undefined): Promise<void> {
    const name = this.discoverName.value.trim();
    const policy = byId<HTMLSelectElement>('call-policy').value as CallPolicy;
    const target = nodeId === undefined ? `any provider (${policy})` : shortId(nodeId);
    await this.names.learn(name);
    this.result.dataset['state'] = 'running';
    this.result.replaceChildren(h('span', { class: 'muted' }, `Calling ${name} on ${target}…`));
    const started = performance.now();
    try {
      const args = parseJsonField(this.callArgs.value, 'Arguments', undefined);
      const value =
        nodeId === undefined
          ? await this.peer.call(name, args, { policy })
          : await this.peer.callTo(nodeId, name, args);
      const ms = performance.now() - started;
      this.result.dataset['state'] = 'ok';
      this.result.replaceChildren(
        h(
          'div',
          { class: 'result-head' },
          h('strong', {}, name),
          ` on ${target} · `,
          h('span', { class: 'latency' }, `${ms.toFixed(1)} ms`),
        ),
        h('pre', { class: 'result-value' }, JSON.stringify(value, null, 2) ?? 'undefined'),
      );
      this.log.add('call', `${name} on ${target} answered in ${ms.toFixed(1)} ms: ${showJson(value)}`);
    } catch (e) {
      const err = e as { code?: string; message?: string };
      this.result.dataset['state'] = 'error';
      this.result.replaceChildren(
        h('div', { class: 'result-head' }, h('strong', {}, name), ` on ${target} failed`),
        h('pre', { class: 'result-value' }, `${err.code ? `${err.code}: ` : ''}${err.message ?? String(e)}`),
      );
      this.log.error(`call ${name} on ${target}`, e);
    }
  }
}
