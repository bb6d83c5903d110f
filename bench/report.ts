import { execSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/**
 * BENCHMARKS.md holds one section per benchmark, each replaced whole when its benchmark
 * runs again, and each stamped with the command, date and machine that produced it.
 */
export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

/** The commit as the benchmark started (a commit made while it ran must not be credited with its figures). */
const startCommit = commit();

export function writeSection(name: string, command: string, body: string): void {
  const file = 'BENCHMARKS.md';
  const header =
    '# Benchmarks\n\nEvery figure below was printed by the command named in its section; each section is rewritten when that command runs.\n';
  const current = existsSync(file) ? readFileSync(file, 'utf8') : header;
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const section = `${begin}\n## ${name}\n\n- Command: \`${command}\`\n- Date: ${new Date().toISOString()}\n- Machine: ${machine()}\n- Commit: ${startCommit}${dirty() ? ' (with uncommitted changes)' : ''}\n\n${body.trim()}\n${end}`;
  const start = current.indexOf(begin);
  const stop = current.indexOf(end);
  const next =
    start >= 0 && stop > start
      ? current.slice(0, start) + section + current.slice(stop + end.length)
      : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, next);
}

/** Changes to the code measured; BENCHMARKS.md itself does not count (earlier benchmarks of the same run write it). */
function dirty(): boolean {
  try {
    const changed = execSync('git status --porcelain --untracked-files=no', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim()
      .split('\n');
    return changed.some((line) => line.trim() !== '' && !line.endsWith(' BENCHMARKS.md'));
  } catch {
    return false;
  }
}

function commit(): string {
  try {
    return execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return 'unknown';
  }
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const fmt = (v: string | number): string =>
    typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : v;
  return [
    `| ${headers.join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(fmt).join(' | ')} |`),
  ].join('\n');
}
