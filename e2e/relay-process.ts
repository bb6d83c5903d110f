import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * A relay in a process of its own, started as a deployment would start it (the CLI,
 * `macula-web relay --port P --join URL`, from source through tsx), so a test can kill it
 * the way a machine dies. Resolves once the relay's own DHT peer is up.
 */
export class RelayProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    /** The relay's own peer's node id, from its start-up line. */
    readonly peerId: string,
    readonly output: string[],
  ) {}

  static start(port: number, join: readonly string[] = [], startMs = 60_000): Promise<RelayProcess> {
    const args = ['--import', 'tsx', 'src/cli/main.ts', 'relay', '--port', String(port), '--host', '127.0.0.1'];
    for (const url of join) args.push('--join', url);
    // Every tab of a test comes from 127.0.0.1: the per-address cap is raised above the suite's.
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RELAY_SOCKETS_PER_ADDRESS: '256', RELAY_PEER: '1' },
    });
    const output: string[] = [];
    child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`relay on ${port} did not start its peer within ${startMs} ms: ${output.join('')}`));
      }, startMs);
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`relay on ${port} exited (${code}): ${output.join('')}`));
      });
      createInterface({ input: child.stdout! }).on('line', (line) => {
        output.push(line);
        const up = /own DHT peer is up \(node ([0-9a-f]{64})\)/.exec(line);
        if (up === null) return;
        clearTimeout(timer);
        resolve(new RelayProcess(child, `ws://127.0.0.1:${port}/relay`, up[1]!, output));
      });
    });
  }

  /** End the process at once, as a crash would: no goodbyes, sockets cut. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    await exited;
  }

  /** Close in order (SIGTERM: the peer leaves, then the sockets close). */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const cut = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(cut);
  }
}
