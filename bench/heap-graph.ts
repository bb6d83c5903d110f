/**
 * A V8 heap snapshot (`v8.writeHeapSnapshot`) read into typed arrays, with its dominator
 * tree: what each object keeps alive alone (its retained size). bench/sim-heap.ts uses it
 * to say where a simulated node's bytes go.
 *
 * The file is scanned as bytes rather than given to JSON.parse: a 1,000-node swarm's
 * snapshot is several hundred MB, past what one JavaScript string may hold.
 */
import { readFileSync } from 'node:fs';

export interface HeapGraph {
  count: number;
  /** Per object: its type's index in `types`, name string index, self size, first edge. */
  type: Uint8Array;
  name: Uint32Array;
  selfSize: Float64Array;
  firstEdge: Uint32Array;
  /** Per edge: its type's index in `edgeTypes`, name (string index, or element index), target object. */
  edgeType: Uint8Array;
  edgeName: Uint32Array;
  edgeTo: Uint32Array;
  types: string[];
  edgeTypes: string[];
  strings: string[];
}

export function readHeapSnapshot(path: string): HeapGraph {
  const buf = readFileSync(path);
  const nodesAt = buf.indexOf('"nodes":[');
  const header = JSON.parse(buf.toString('utf8', 0, buf.lastIndexOf(',', nodesAt)) + '}') as {
    snapshot: {
      meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] };
      node_count: number;
      edge_count: number;
    };
  };
  const { meta, node_count: count, edge_count: edges } = header.snapshot;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const [fType, fName, fSize, fEdges] = ['type', 'name', 'self_size', 'edge_count'].map((f) =>
    meta.node_fields.indexOf(f),
  ) as [number, number, number, number];
  const [eType, eName, eTo] = ['type', 'name_or_index', 'to_node'].map((f) => meta.edge_fields.indexOf(f)) as [
    number,
    number,
    number,
  ];

  const g: HeapGraph = {
    count,
    type: new Uint8Array(count),
    name: new Uint32Array(count),
    selfSize: new Float64Array(count),
    firstEdge: new Uint32Array(count + 1),
    edgeType: new Uint8Array(edges),
    edgeName: new Uint32Array(edges),
    edgeTo: new Uint32Array(edges),
    types: meta.node_types[0],
    edgeTypes: meta.edge_types[0],
    strings: [],
  };
  let at = nodesAt + '"nodes":['.length;
  let edgeSum = 0;
  at = readInts(buf, at, count * nf, (i, v) => {
    const node = Math.floor(i / nf);
    const field = i - node * nf;
    if (field === fType) g.type[node] = v;
    else if (field === fName) g.name[node] = v;
    else if (field === fSize) g.selfSize[node] = v;
    else if (field === fEdges) {
      g.firstEdge[node] = edgeSum;
      edgeSum += v;
    }
  });
  g.firstEdge[count] = edgeSum;
  at = buf.indexOf('"edges":[', at) + '"edges":['.length;
  readInts(buf, at, edges * ef, (i, v) => {
    const edge = Math.floor(i / ef);
    const field = i - edge * ef;
    if (field === eType) g.edgeType[edge] = v;
    else if (field === eName) g.edgeName[edge] = v;
    else if (field === eTo) g.edgeTo[edge] = v / nf;
  });
  g.strings = readStrings(buf, buf.indexOf('"strings":[') + '"strings":['.length);
  return g;
}

/** Read `n` non-negative integers separated by commas and white space, from `at`; returns where it stopped. */
function readInts(buf: Buffer, at: number, n: number, put: (i: number, v: number) => void): number {
  for (let i = 0; i < n; i++) {
    let c = buf[at]!;
    while (c < 48 || c > 57) c = buf[++at]!;
    let v = 0;
    while (c >= 48 && c <= 57) {
      v = v * 10 + (c - 48);
      c = buf[++at]!;
    }
    put(i, v);
  }
  return at;
}

function readStrings(buf: Buffer, at: number): string[] {
  const out: string[] = [];
  for (;;) {
    while (buf[at] !== 34 && buf[at] !== 93) at++;
    if (buf[at] === 93) return out;
    let end = at + 1;
    while (buf[end] !== 34) end += buf[end] === 92 ? 2 : 1;
    out.push(JSON.parse(buf.toString('utf8', at, end + 1)) as string);
    at = end + 1;
  }
}

/** Edges that do not keep their target alive. */
function isWeak(g: HeapGraph, e: number): boolean {
  return g.edgeTypes[g.edgeType[e]!] === 'weak';
}

/**
 * Immediate dominators from the root (object 0), by the iterative algorithm of Cooper,
 * Harvey and Kennedy over a reverse postorder; unreachable objects get -1.
 */
export function dominators(g: HeapGraph): Int32Array {
  const { count, firstEdge, edgeTo } = g;
  // Reverse postorder by an explicit-stack depth-first walk.
  const order = new Int32Array(count).fill(-1);
  const post: number[] = [];
  const stack: number[] = [0];
  const next = new Uint32Array(count);
  order[0] = 0;
  for (let i = 0; i < count; i++) next[i] = firstEdge[i]!;
  while (stack.length > 0) {
    const v = stack[stack.length - 1]!;
    if (next[v]! < firstEdge[v + 1]!) {
      const e = next[v]!++;
      const w = edgeTo[e]!;
      if (!isWeak(g, e) && order[w] === -1) {
        order[w] = 0;
        stack.push(w);
      }
    } else {
      stack.pop();
      post.push(v);
    }
  }
  const rpo = post.reverse();
  const rank = new Int32Array(count).fill(-1);
  rpo.forEach((v, i) => (rank[v] = i));
  // Predecessors of the reachable objects, as a compact adjacency.
  const predCount = new Uint32Array(count + 1);
  for (let v = 0; v < count; v++) {
    if (rank[v] === -1) continue;
    for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e++) if (!isWeak(g, e)) predCount[edgeTo[e]! + 1]!++;
  }
  for (let v = 0; v < count; v++) predCount[v + 1]! += predCount[v]!;
  const preds = new Uint32Array(predCount[count]!);
  const fill = predCount.slice();
  for (let v = 0; v < count; v++) {
    if (rank[v] === -1) continue;
    for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e++) if (!isWeak(g, e)) preds[fill[edgeTo[e]!]!++] = v;
  }
  const idom = new Int32Array(count).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      while (rank[a]! > rank[b]!) a = idom[a]!;
      while (rank[b]! > rank[a]!) b = idom[b]!;
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 1; i < rpo.length; i++) {
      const v = rpo[i]!;
      let d = -1;
      for (let p = predCount[v]!; p < predCount[v + 1]!; p++) {
        const u = preds[p]!;
        if (idom[u] === -1) continue;
        d = d === -1 ? u : intersect(u, d);
      }
      if (d !== idom[v]) {
        idom[v] = d;
        changed = true;
      }
    }
  }
  return idom;
}

/** Each object's retained size: its own plus everything it dominates. */
export function retainedSizes(g: HeapGraph, idom: Int32Array): Float64Array {
  const retained = Float64Array.from(g.selfSize);
  // Children before parents: a parent's rank is below its children's in any order the dominator tree respects.
  const depth = new Int32Array(g.count).fill(-1);
  const depthOf = (v: number): number => {
    const chain: number[] = [];
    while (depth[v] === -1 && v !== 0 && idom[v] !== -1) {
      chain.push(v);
      v = idom[v]!;
    }
    let d = v === 0 ? 0 : depth[v]!;
    if (v === 0) depth[0] = 0;
    for (let i = chain.length - 1; i >= 0; i--) depth[chain[i]!] = ++d;
    return d;
  };
  const reachable: number[] = [];
  for (let v = 0; v < g.count; v++) {
    if (idom[v] === -1) continue;
    depthOf(v);
    reachable.push(v);
  }
  reachable.sort((a, b) => depth[b]! - depth[a]!);
  for (const v of reachable) if (v !== 0) retained[idom[v]!]! += retained[v]!;
  return retained;
}

/** The name of an object as DevTools shows it: its constructor for objects, its kind otherwise. */
export function className(g: HeapGraph, v: number): string {
  const type = g.types[g.type[v]!]!;
  if (type === 'object' || type === 'native') return g.strings[g.name[v]!]!;
  if (type === 'closure') return '(closure)';
  if (type === 'hidden' || type === 'code') return `(${type}) ${g.strings[g.name[v]!]!.slice(0, 40)}`;
  return `(${type})`;
}

/** An edge's name: a property or variable name, or `[]` for an element. */
export function edgeLabel(g: HeapGraph, e: number): string {
  const type = g.edgeTypes[g.edgeType[e]!]!;
  if (type === 'element' || type === 'hidden') return '[]';
  const name = g.strings[g.edgeName[e]!]!;
  return /^\d+$/.test(name) ? '[]' : name;
}
