import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * A Node peer for the e2e suite: e2e/node-peer-host.ts in a child process (tsx runs the
 * source entry, src/node), so a test can close it, kill it and start it again on the same
 * data directory as a server would.
 */
export class NodePeerProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private constructor(
    private readonly child: ChildProcess,
    readonly nodeId: string,
    /** What the process wrote to stderr (warnings), for a test to look at. */
    readonly stderr: string[],
  ) {}

  static start(bootstrap: string, dataDir?: string): Promise<NodePeerProcess> {
    // node itself (not npx) so that kill() ends the peer, not a wrapper around it.
    const args = ['--import', 'tsx', 'e2e/node-peer-host.ts', bootstrap, ...(dataDir ? [dataDir] : [])];
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const stderr: string[] = [];
    // A request written after the process died fails through `waiting`, not as an EPIPE thrown at the runner.
    child.stdin!.on('error', () => undefined);
    child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
    return new Promise((resolve, reject) => {
      let peer: NodePeerProcess | undefined;
      child.on('exit', (code) => {
        if (peer === undefined) reject(new Error(`Node peer exited (${code}) before it started: ${stderr.join('')}`));
        else for (const w of peer.waiting.values()) w.reject(new Error(`Node peer exited (${code})`));
      });
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const message = JSON.parse(line) as {
          ready?: boolean;
          nodeId?: string;
          id?: number;
          ok?: boolean;
          value?: unknown;
          error?: { code: string; message: string };
        };
        if (message.ready === true) {
          peer = new NodePeerProcess(child, message.nodeId!, stderr);
          resolve(peer);
        } else if (message.ready === false) reject(new Error(`Node peer did not start: ${message.error?.message}`));
        else if (peer !== undefined && message.id !== undefined) {
          const w = peer.waiting.get(message.id);
          peer.waiting.delete(message.id);
          if (message.ok) w?.resolve(message.value);
          else w?.reject(Object.assign(new Error(message.error!.message), { code: message.error!.code }));
        }
      });
    });
  }

  request<T = unknown>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.stdin!.write(`${JSON.stringify({ id, op, args })}\n`);
    });
  }

  /** Close the peer (it leaves the mesh and writes its snapshot) and wait for the process to end. */
  async close(): Promise<void> {
    if (this.ended) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    await this.request('close').catch(() => undefined);
    this.child.stdin!.end();
    await exited;
  }

  /** End the process at once, as a crash would (nothing is closed or flushed). */
  async kill(): Promise<void> {
    if (this.ended) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    await exited;
  }

  private get ended(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }
}
