import type { Registry } from 'prom-client';
import { scrapeCounter, scrapeGauge } from '../lib/metrics.ts';
import type { Captions } from './captions.ts';

/** Live captions (`amphi_captions_*`), read at scrape time. */
export function captionsMetrics(registry: Registry, captions: Captions): void {
  scrapeGauge(
    registry,
    'amphi_captions_spaces',
    'Spaces captioned now on this node (at most captions.maxSpaces)',
    () => captions.activeSpaces,
  );
  const counters: [string, string, () => number][] = [
    [
      'amphi_captions_refused_total',
      'Spaces that asked for captions and got none: captions.maxSpaces were captioned',
      () => captions.refused,
    ],
    [
      'amphi_captions_recogniser_failures_total',
      'Recogniser threads that failed or died (each is logged and restarted)',
      () => captions.stats().failures,
    ],
    [
      'amphi_captions_recogniser_restarts_total',
      'Recogniser threads started again after a failure',
      () => captions.stats().restarts,
    ],
    [
      'amphi_captions_chunks_dropped_total',
      'Chunks of program audio not captioned because the recogniser was behind',
      () => captions.stats().droppedChunks,
    ],
    [
      'amphi_captions_recogniser_cpu_seconds_total',
      'CPU the recogniser threads spent decoding',
      () => captions.stats().cpuMs / 1000,
    ],
    ['amphi_captions_audio_seconds_total', 'Program audio the recogniser threads decoded', () => captions.stats().audioMs / 1000],
  ];
  for (const [name, help, read] of counters) scrapeCounter(registry, name, help, read);
}
