/**
 * A minimal CMAF writer for one Opus audio track (ISO/IEC 14496-12 boxes, Opus-in-ISOBMFF mapping):
 * an init segment, and fragments (moof + mdat) that LL-HLS serves as parts and concatenates into
 * segments. Written by hand rather than with a muxer library because every part must end exactly on
 * the stage's 20 ms frame grid and be emitted the moment its last frame exists.
 */
export const TIMESCALE = 48_000;

function box(type: string, ...payloads: Uint8Array[]): Uint8Array {
  const size = 8 + payloads.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, size);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  let offset = 8;
  for (const p of payloads) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function fullBox(type: string, version: number, flags: number, ...payloads: Uint8Array[]): Uint8Array {
  return box(type, u32((version << 24) | flags), ...payloads);
}

function bytes(length: number, fill: (view: DataView) => void): Uint8Array {
  const out = new Uint8Array(length);
  fill(new DataView(out.buffer));
  return out;
}
const u8 = (v: number) => bytes(1, (d) => d.setUint8(0, v));
const u16 = (v: number) => bytes(2, (d) => d.setUint16(0, v));
const u32 = (v: number) => bytes(4, (d) => d.setUint32(0, v >>> 0));
const u64 = (v: number) => bytes(8, (d) => d.setBigUint64(0, BigInt(v)));
const zeros = (n: number) => new Uint8Array(n);
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const MATRIX = [0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000];

export interface OpusTrackInfo {
  readonly channels: 1 | 2;
  /** Samples at 48 kHz the decoder drops at the start (the encoder's lookahead). */
  readonly preSkip: number;
}

export function initSegment(info: OpusTrackInfo): Uint8Array {
  const ftyp = box('ftyp', ascii('iso6'), u32(0), ascii('iso6'), ascii('cmfc'), ascii('isom'), ascii('opus'));
  const mvhd = fullBox(
    'mvhd',
    0,
    0,
    u32(0),
    u32(0),
    u32(TIMESCALE),
    u32(0),
    u32(0x10000),
    u16(0x100),
    zeros(10),
    ...MATRIX.map(u32),
    zeros(24),
    u32(2),
  );
  const tkhd = fullBox(
    'tkhd',
    0,
    3,
    u32(0),
    u32(0),
    u32(1),
    u32(0),
    u32(0),
    zeros(8),
    u16(0),
    u16(0),
    u16(0x100),
    u16(0),
    ...MATRIX.map(u32),
    u32(0),
    u32(0),
  );
  const mdhd = fullBox('mdhd', 0, 0, u32(0), u32(0), u32(TIMESCALE), u32(0), u16(0x55c4), u16(0));
  const hdlr = fullBox('hdlr', 0, 0, u32(0), ascii('soun'), zeros(12), ascii('SoundHandler\0'));
  const dOps = box('dOps', u8(0), u8(info.channels), u16(info.preSkip), u32(TIMESCALE), u16(0), u8(0));
  const opus = box(
    'Opus',
    zeros(6),
    u16(1),
    zeros(8),
    u16(info.channels),
    u16(16),
    u16(0),
    u16(0),
    u32((TIMESCALE << 16) >>> 0),
    dOps,
  );
  const stbl = box(
    'stbl',
    fullBox('stsd', 0, 0, u32(1), opus),
    fullBox('stts', 0, 0, u32(0)),
    fullBox('stsc', 0, 0, u32(0)),
    fullBox('stsz', 0, 0, u32(0), u32(0)),
    fullBox('stco', 0, 0, u32(0)),
  );
  const minf = box(
    'minf',
    fullBox('smhd', 0, 0, u16(0), u16(0)),
    box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1))),
    stbl,
  );
  // The edit list starts presentation after the encoder's priming samples (Opus in ISOBMFF §4.3.4);
  // a duration of 0 means "to the end" in a fragmented file.
  const edts = box('edts', fullBox('elst', 0, 0, u32(1), u32(0), u32(info.preSkip), u16(1), u16(0)));
  const trak = box('trak', tkhd, edts, box('mdia', mdhd, hdlr, minf));
  const mvex = box('mvex', fullBox('trex', 0, 0, u32(1), u32(1), u32(960), u32(0), u32(0)));
  return concat([ftyp, box('moov', mvhd, trak, mvex)]);
}

export interface FragmentSample {
  readonly duration: number;
  readonly data: Uint8Array;
}

/** One CMAF chunk: moof + mdat holding `samples`, starting at `baseMediaDecodeTime` (48 kHz). */
export function fragment(sequenceNumber: number, baseMediaDecodeTime: number, samples: readonly FragmentSample[]): Uint8Array {
  const trunEntries = samples.flatMap((s) => [u32(s.duration), u32(s.data.length)]);
  // trun flags: data-offset, sample-duration and sample-size present.
  const build = (dataOffset: number) =>
    box(
      'moof',
      fullBox('mfhd', 0, 0, u32(sequenceNumber)),
      box(
        'traf',
        fullBox('tfhd', 0, 0x020000, u32(1)), // default-base-is-moof
        fullBox('tfdt', 1, 0, u64(baseMediaDecodeTime)),
        fullBox('trun', 0, 0x000301, u32(samples.length), u32(dataOffset), ...trunEntries),
      ),
    );
  const moofSize = build(0).length;
  const moof = build(moofSize + 8);
  const mdat = box('mdat', ...samples.map((s) => s.data));
  return concat([moof, mdat]);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
