/** A server's CPU share, sampled every second from /proc while a bench runs: the series its report plots. */
import { cpuMicrosOf } from './proc.ts';

export interface CpuSampler {
  /** Seconds since t0 and the share of a core used since the previous sample. */
  readonly series: { t: number; share: number }[];
  stop(): void;
}

/** Starts sampling `pids` (read afresh each time); `each` sees every sample's total CPU-us and time. */
export function sampleCpu(pids: () => number[], t0: number, each?: (cpu: number, at: number) => void): CpuSampler {
  const series: { t: number; share: number }[] = [];
  let last = { cpu: cpuMicrosOf(pids()), at: Date.now() };
  const timer = setInterval(() => {
    const cpu = cpuMicrosOf(pids());
    const at = Date.now();
    series.push({ t: (at - t0) / 1000, share: (cpu - last.cpu) / ((at - last.at) * 1000) });
    last = { cpu, at };
    each?.(cpu, at);
  }, 1000);
  return { series, stop: () => clearInterval(timer) };
}
