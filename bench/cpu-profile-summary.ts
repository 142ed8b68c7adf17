// node dist/bench/cpu-profile-summary.js <file.cpuprofile> [top] — where a `node --cpu-prof`
// profile spent its time: self time per function, per file (or package), and the inclusive
// time of the functions that hold the most (a function counted once per sample, recursion
// or not). Times are shares of all samples, idle included, and of the non-idle ones.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function place(url: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + '/dist/'.length);
  return url.replace(/^node:/, '') || '(native)';
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || '(anonymous)'} ${place(url)}:${lineNumber + 1}`;
}

function main(): void {
  const [file, topArg] = process.argv.slice(2);
  if (!file) throw new Error('usage: cpu-profile-summary <file.cpuprofile> [top]');
  const top = Number(topArg ?? 40);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const selfByNode = new Map<number, number>();
  profile.samples.forEach((id, i) => selfByNode.set(id, (selfByNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...selfByNode.values()].reduce((a, b) => a + b, 0);
  let idle = 0;
  const selfByFunction = new Map<string, number>();
  const selfByPlace = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, time] of selfByNode) {
    const node = byId.get(id)!;
    const name = node.callFrame.functionName;
    if (name === '(idle)') idle += time;
    selfByFunction.set(label(node), (selfByFunction.get(label(node)) ?? 0) + time);
    const where = name.startsWith('(') ? name : place(node.callFrame.url);
    selfByPlace.set(where, (selfByPlace.get(where) ?? 0) + time);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const key = label(byId.get(at)!);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + time);
    }
  }
  const busy = total - idle;
  const show = (title: string, entries: Map<string, number>, count: number) => {
    console.log(`\n${title}        % all   % busy   ms`);
    for (const [key, time] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, count)) {
      console.log(`  ${((100 * time) / total).toFixed(1).padStart(6)} ${((100 * time) / busy).toFixed(1).padStart(7)} ${(time / 1000).toFixed(0).padStart(7)}  ${key}`);
    }
  };
  console.log(`${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s not idle`);
  show('self time by file or package', selfByPlace, 25);
  show('self time by function', selfByFunction, top);
  show('inclusive time by function', inclusive, top);
}

main();
