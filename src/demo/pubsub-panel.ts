/**
 * Pub/sub: subscribe this tab to topic patterns (`*` matches one segment, `**` any
 * number), publish JSON payloads to a topic, and watch a small live feed of what this
 * tab's subscriptions receive, with who published it.
 */
import type { Peer } from '../index.js';
import { byId, h, nodeChip, parseJsonField, showJson } from './dom.js';
import type { EventLog } from './event-log.js';
import { shortId } from './ids.js';
import type { KeyNames } from './key-names.js';

/** The feed shows the latest messages only. */
const FEED_MAX = 40;

export class PubSubPanel {
  private readonly subs = new Map<string, () => Promise<void>>();
  private readonly list = byId<HTMLUListElement>('subscriptions');
  private readonly feed = byId<HTMLOListElement>('feed');
  private readonly publishResult = byId('publish-result');
  private received = 0;

  constructor(
    private readonly peer: Peer,
    private readonly names: KeyNames,
    private readonly log: EventLog,
  ) {
    byId('subscribe-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.subscribe();
    });
    byId('publish-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.publish();
    });
    byId('feed-clear').addEventListener('click', () => {
      this.feed.replaceChildren();
      this.showEmptyFeed();
    });
    this.showSubs();
    this.showEmptyFeed();
  }

  private async subscribe(): Promise<void> {
    const pattern = byId<HTMLInputElement>('subscribe-topic').value.trim();
    if (this.subs.has(pattern)) {
      this.log.add('pubsub', `already subscribed to ${pattern}`);
      return;
    }
    await this.names.learn(pattern);
    try {
      const stop = await this.peer.subscribe(pattern, (payload, info) => this.deliver(pattern, payload, info));
      this.subs.set(pattern, stop);
      this.log.add('pubsub', `subscribed to ${pattern}`);
    } catch (e) {
      this.log.error(`subscribe to ${pattern}`, e);
    }
    this.showSubs();
  }

  private async unsubscribe(pattern: string): Promise<void> {
    const stop = this.subs.get(pattern);
    if (stop === undefined) return;
    this.subs.delete(pattern);
    this.showSubs();
    try {
      await stop();
      this.log.add('pubsub', `unsubscribed from ${pattern}`);
    } catch (e) {
      this.log.error(`unsubscribe from ${pattern}`, e);
    }
  }

  private async publish(): Promise<void> {
    const topic = byId<HTMLInputElement>('publish-topic').value.trim();
    await this.names.learn(topic);
    this.publishResult.dataset['state'] = 'running';
    this.publishResult.textContent = `Publishing to ${topic}…`;
    try {
      const payload = parseJsonField(byId<HTMLTextAreaElement>('publish-payload').value, 'Payload', null);
      const delivered = await this.peer.publish(topic, payload);
      this.publishResult.dataset['state'] = 'ok';
      this.publishResult.textContent = `Published to ${topic}: delivered to ${delivered} subscriber${delivered === 1 ? '' : 's'}`;
      this.log.add('pubsub', `published ${showJson(payload)} to ${topic}: ${delivered} subscriber(s)`);
    } catch (e) {
      const err = e as { code?: string; message?: string };
      this.publishResult.dataset['state'] = 'error';
      this.publishResult.textContent = `Publish failed: ${err.code ? `${err.code} — ` : ''}${err.message ?? String(e)}`;
      this.log.error(`publish to ${topic}`, e);
    }
  }

  private deliver(pattern: string, payload: unknown, info: { topic: string; publisher: string }): void {
    this.received++;
    this.feed.querySelector('.empty')?.remove();
    const li = h(
      'li',
      { class: 'feed-item', 'data-topic': info.topic },
      h(
        'div',
        { class: 'feed-head' },
        h('time', {}, new Date().toLocaleTimeString([], { hour12: false })),
        h('code', { class: 'topic' }, info.topic),
        pattern !== info.topic ? h('span', { class: 'muted' }, ` via ${pattern}`) : null,
        h('span', { class: 'spacer' }),
        nodeChip(info.publisher, info.publisher === this.peer.nodeId ? 'this tab' : undefined),
      ),
      h('code', { class: 'payload' }, showJson(payload)),
    );
    this.feed.prepend(li);
    while (this.feed.children.length > FEED_MAX) this.feed.lastElementChild?.remove();
    byId('feed-count').textContent = String(this.received);
    this.log.add('pubsub', `received ${showJson(payload)} on ${info.topic} from ${shortId(info.publisher)}`);
  }

  private showSubs(): void {
    this.list.replaceChildren(
      ...(this.subs.size === 0
        ? [h('li', { class: 'empty' }, 'Not subscribed to anything.')]
        : [...this.subs.keys()].map((pattern) => {
            const button = h(
              'button',
              { type: 'button', class: 'small secondary', 'aria-label': `Unsubscribe from ${pattern}` },
              'Unsubscribe',
            );
            button.addEventListener('click', () => void this.unsubscribe(pattern));
            return h('li', { 'data-subscription': pattern }, h('code', {}, pattern), button);
          })),
    );
  }

  private showEmptyFeed(): void {
    if (this.feed.children.length === 0)
      this.feed.append(h('li', { class: 'empty' }, "Messages to this tab's subscriptions appear here."));
  }
}
