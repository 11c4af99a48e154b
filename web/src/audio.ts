/**
 * One AudioContext for the page: everything the listener or speaker hears (the HLS element, the
 * stage's return audio) goes through an analyser, which drives level meters and lets tests ask what
 * the page is playing.
 */
let context: AudioContext | undefined;
let analyser: AnalyserNode | undefined;
/** The listener's volume, after the analyser (so what tests measure does not depend on it). */
let output: GainNode | undefined;
let volume = 1;

export function monitor(): { context: AudioContext; analyser: AnalyserNode } {
  if (context === undefined || analyser === undefined) {
    context = new AudioContext();
    analyser = context.createAnalyser();
    analyser.fftSize = 16384;
    output = context.createGain();
    output.gain.value = volume;
    analyser.connect(output).connect(context.destination);
  }
  return { context, analyser };
}

/**
 * The page's volume (0..1), for all it plays. An element routed through Web Audio ignores its own
 * `volume` in Chromium, so the volume is a gain on the way out.
 */
export function setVolume(value: number): void {
  volume = value;
  if (output !== undefined) output.gain.value = value;
}

/** Elements already routed through the analyser: an element can be a media element source once only. */
const routed = new WeakSet<HTMLMediaElement>();

export function playThrough(element: HTMLMediaElement): void {
  const { context: ctx, analyser: node } = monitor();
  if (!routed.has(element)) {
    ctx.createMediaElementSource(element).connect(node);
    routed.add(element);
  }
  void ctx.resume();
}

/** Plays a remote stream (the stage's return audio) until the function it returns is called. */
export function playStream(stream: MediaStream): () => void {
  const { context: ctx, analyser: node } = monitor();
  const source = ctx.createMediaStreamSource(stream);
  source.connect(node);
  // Chromium only pulls remote WebRTC audio that is attached to a media element too.
  const sink = new Audio();
  sink.srcObject = stream;
  sink.muted = true;
  void sink.play();
  void ctx.resume();
  return () => {
    source.disconnect();
    sink.srcObject = null;
  };
}

/** Dominant frequency and level of what the page plays right now. */
export function probe(): { peakHz: number; levelDb: number } {
  if (context === undefined || analyser === undefined) return { peakHz: 0, levelDb: -100 };
  const bins = new Float32Array(analyser.frequencyBinCount);
  analyser.getFloatFrequencyData(bins);
  let best = 1;
  for (let i = 1; i < bins.length; i++) if ((bins[i] ?? -Infinity) > (bins[best] ?? -Infinity)) best = i;
  return { peakHz: (best * context.sampleRate) / analyser.fftSize, levelDb: bins[best] ?? -100 };
}

/** A level meter (0..1) for a microphone stream, for the host's mic check. */
export function meter(stream: MediaStream): () => number {
  const { context: ctx } = monitor();
  const node = ctx.createAnalyser();
  node.fftSize = 1024;
  ctx.createMediaStreamSource(stream).connect(node);
  const data = new Float32Array(node.fftSize);
  return () => {
    node.getFloatTimeDomainData(data);
    let peak = 0;
    for (const v of data) peak = Math.max(peak, Math.abs(v));
    return peak;
  };
}

declare global {
  interface Window {
    amphiProbe?: typeof probe;
  }
}
window.amphiProbe = probe;
