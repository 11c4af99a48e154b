import { useEffect, useState } from 'preact/hooks';

/** The current time (ms since the epoch), again every `ms`: countdowns and "running late". */
export function useNow(ms: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
