/**
 * The server as the flash-crowd drill watches it: its CPU share every second (from /proc), the door's
 * own view every other second (its capacity factor, shedding level and the event-loop lag it reacts
 * to, from /metrics), and the CPU shares of the crowd and of the drain that follows.
 */
import { sampleCpu } from '../lib/cpu-sampler.ts';
import { gauge } from '../lib/metrics.ts';
import { cpuMicros } from '../lib/proc.ts';

export interface DoorSample {
  readonly t: number;
  readonly factor: number;
  readonly level: number;
  readonly lagMaxMs: number;
}

export interface ServerLoad {
  /** The server's share of its core while the crowd joined, and while the line drained after. */
  readonly serverCpuShare: number;
  readonly serverDrainCpuShare: number;
  /** This process's (the generator's) share of its core while the crowd joined. */
  readonly generatorCpuShare: number;
  readonly cpuSeries: readonly { t: number; share: number }[];
  readonly doorSeries: readonly DoorSample[];
}

export interface ServerWatch {
  /** The samples so far, for progress lines. */
  readonly cpu: readonly { t: number; share: number }[];
  readonly door: readonly DoorSample[];
  stop(): ServerLoad;
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;

/** Starts watching `pid` (serving `url`) now; the crowd's window ends `crowdSeconds` from now. */
export function watchServer(url: string, pid: number, crowdSeconds: number): ServerWatch {
  const startCpu = cpuMicros(pid);
  const startGen = process.cpuUsage();
  const t0 = Date.now();
  let crowdWindow: { cpu: number; gen: NodeJS.CpuUsage; at: number } | undefined;
  const door: DoorSample[] = [];
  let samples = 0;
  const sampler = sampleCpu(
    () => [pid],
    t0,
    (cpu, at) => {
      samples++;
      if (crowdWindow === undefined && at >= t0 + crowdSeconds * 1000) crowdWindow = { cpu, gen: process.cpuUsage(startGen), at };
      if (samples % 2 === 1)
        void fetch(`${url}/metrics`)
          .then((r) => r.text())
          .then((text) => {
            door.push({
              t: Math.round((at - t0) / 100) / 10,
              factor: gauge(text, 'amphi_admission_capacity_factor'),
              level: gauge(text, 'amphi_admission_degradation_level'),
              lagMaxMs: Math.round(gauge(text, 'amphi_nodejs_eventloop_lag_max_seconds') * 1000),
            });
          })
          .catch(() => {});
    },
  );
  return {
    cpu: sampler.series,
    door,
    stop() {
      sampler.stop();
      const end = { cpu: cpuMicros(pid), at: Date.now(), gen: process.cpuUsage(startGen) };
      const w = crowdWindow ?? end;
      const crowdS = (w.at - t0) / 1000;
      const drainS = Math.max(0.001, (end.at - w.at) / 1000);
      return {
        serverCpuShare: round3((w.cpu - startCpu) / (crowdS * 1e6)),
        serverDrainCpuShare: round3((end.cpu - w.cpu) / (drainS * 1e6)),
        generatorCpuShare: round3((w.gen.user + w.gen.system) / (crowdS * 1e6)),
        cpuSeries: sampler.series,
        doorSeries: door,
      };
    },
  };
}
