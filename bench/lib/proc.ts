/** Processes as the benches see them: CPU time and memory from /proc, CPU pinning with taskset, tools on PATH. */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** CPU time (user + system) of a process in microseconds, from /proc/<pid>/stat. */
export function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // USER_HZ is 100 on Linux
}

/** Resident set size of a process in bytes, from /proc/<pid>/status. */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match === null ? 0 : Number(match[1]) * 1024;
}

/** Direct children of a process (nginx's workers under its master). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The CPU time of several processes together, in microseconds. */
export function cpuMicrosOf(pids: readonly number[]): number {
  return pids.reduce((n, p) => n + cpuMicros(p), 0);
}

/** True when `command` is on PATH. */
export function installed(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** `cmd args` run on CPU `cpu` through taskset, or unpinned where taskset is missing. */
export function pinnedCommand(cpu: number, cmd: string, args: readonly string[]): [string, string[]] {
  return installed('taskset') ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, [...args]];
}

/** Pins this process (all its threads) to `cpu`, so the generator never shares the server's core. */
export function pinSelf(cpu: number): boolean {
  if (availableParallelism() <= cpu) return false;
  return spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' }).status === 0;
}

/** Everything `child` writes to its stdout (piped), once it has exited and closed it. */
export function stdoutOf(child: ChildProcess): Promise<string> {
  let out = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => (out += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', () => resolve(out));
  });
}
