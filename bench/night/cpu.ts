/**
 * The launch night's per-node figures, for `amphi plan --drill`: CPU read from /proc for every node
 * of each role each second, a process killed or restarted meanwhile counted only while it ran. From
 * windows of the night: the control nodes' CPU per join decision while the crowd arrives, and the
 * edges' CPU per listener-second and the producing media node's CPU per Space-second once the crowd
 * and its junk are over (the edges then serve the audience alone).
 */
import type { Cluster, ClusterNode } from '../cluster/launch.ts';
import type { CrowdResult } from '../joins/analysis.ts';
import { cpuMicros } from '../lib/proc.ts';

export interface RoleCpu {
  /** Cumulative CPU-us of the role's processes, sampled each second (t in ms since the epoch). */
  readonly samples: { readonly t: number; readonly control: number; readonly edge: number; readonly media: number }[];
  stop(): void;
}

type Role = 'control' | 'edge' | 'media';

/** Samples every node's CPU each second; a pid that is gone contributes what it used while it ran. */
export function sampleRoles(cluster: Cluster, producing: () => ClusterNode | undefined): RoleCpu {
  const last = new Map<number, number>();
  const total: Record<Role, number> = { control: 0, edge: 0, media: 0 };
  const samples: RoleCpu['samples'][number][] = [];
  const read = (node: ClusterNode, role: Role) => {
    const pid = node.child.pid;
    if (pid === undefined || node.child.exitCode !== null || node.child.signalCode !== null) return;
    let now: number;
    try {
      now = cpuMicros(pid);
    } catch {
      return; // exited between the check and the read
    }
    total[role] += now - (last.get(pid) ?? now);
    last.set(pid, now);
  };
  const tick = () => {
    for (const node of cluster.controls) read(node, 'control');
    for (const node of cluster.edges) read(node, 'edge');
    const media = producing();
    if (media !== undefined) read(media, 'media');
    samples.push({ t: Date.now(), ...total });
  };
  tick();
  const timer = setInterval(tick, 1000);
  return { samples, stop: () => clearInterval(timer) };
}

/** CPU-us a role used between two times (the samples nearest inside the window). */
export function cpuBetween(cpu: RoleCpu, role: Role, from: number, to: number): { micros: number; seconds: number } {
  const inside = cpu.samples.filter((s) => s.t >= from && s.t <= to);
  const first = inside[0];
  const last = inside.at(-1);
  if (first === undefined || last === undefined || last === first) return { micros: 0, seconds: 0 };
  return { micros: last[role] - first[role], seconds: (last.t - first.t) / 1000 };
}

/**
 * What one node of each role did per unit of work, for `amphi plan --drill`: control nodes' CPU per join
 * decision (a join, or a ticket's exchange) while the crowd came; edges' CPU per listener-second and the
 * producing media node's CPU per second of its one Space in the quiet after the crowd and its junk.
 */
export function perNodeFigures(
  cpu: RoleCpu,
  points: readonly { readonly t: number; readonly streaming: number }[],
  scheduledAt: number,
  crowd: Pick<CrowdResult, 'attempts' | 'exchanged'>,
  windows: { readonly crowd: readonly [number, number]; readonly quiet: readonly [number, number] },
) {
  const control = cpuBetween(cpu, 'control', ...windows.crowd);
  const edge = cpuBetween(cpu, 'edge', ...windows.quiet);
  const media = cpuBetween(cpu, 'media', ...windows.quiet);
  const at = (p: { t: number }) => scheduledAt + p.t * 1000;
  const listening = points.filter((p) => at(p) >= windows.quiet[0] && at(p) <= windows.quiet[1]).map((p) => p.streaming);
  const listeners = listening.length === 0 ? 0 : listening.reduce((a, b) => a + b, 0) / listening.length;
  const decisions = crowd.attempts + crowd.exchanged;
  return {
    controlCpuMicrosPerJoin: decisions === 0 ? undefined : Math.round(control.micros / decisions),
    edgeCpuMicrosPerListenerSecond:
      listeners === 0 || edge.seconds === 0 ? undefined : Math.round(edge.micros / (listeners * edge.seconds)),
    mediaCpuMicrosPerSpaceSecond: media.seconds === 0 ? undefined : Math.round(media.micros / media.seconds),
    windows: { crowdSeconds: control.seconds, quietSeconds: edge.seconds, listeners: Math.round(listeners) },
  };
}
