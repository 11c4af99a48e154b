/**
 * An incremental fMP4 reader for the stream listeners: fed Amphi's live.mp4 body as it arrives, it
 * reports each moof+mdat fragment's duration and media end time, from the init segment's timescales.
 * Parses only the boxes and fields it needs; a box too big or malformed is an error.
 */

/** One fMP4 fragment, known once its mdat is complete. */
export interface Fmp4Part {
  readonly durationMs: number;
  /** Media time at the end of the part (tfdt + duration), in ms. */
  readonly endMs: number;
}

// moov and moof are parsed whole; anything bigger is not an audio stream we understand.
const MAX_PARSED_BOX = 16 * 1024 * 1024;

interface Box {
  readonly type: string;
  readonly body: number;
  readonly end: number;
}

/** The child boxes of b[start, end). */
function* boxes(b: Buffer, start: number, end: number): Generator<Box> {
  let at = start;
  while (at + 8 <= end) {
    let size = b.readUInt32BE(at);
    let header = 8;
    if (size === 1) {
      size = Number(b.readBigUInt64BE(at + 8));
      header = 16;
    } else if (size === 0) size = end - at;
    if (size < header || at + size > end) throw new Error(`fMP4: bad box size ${size}`);
    yield { type: b.toString('latin1', at + 4, at + 8), body: at + header, end: at + size };
    at += size;
  }
}

const child = (b: Buffer, parent: Box, type: string): Box | undefined => {
  for (const box of boxes(b, parent.body, parent.end)) if (box.type === type) return box;
  return undefined;
};

/** Track timescales (mdhd, by tkhd track_ID) and default sample durations (trex) from an init segment. */
interface Tracks {
  readonly timescales: Map<number, number>;
  readonly trexDurations: Map<number, number>;
}

function readMoov(b: Buffer, tracks: Tracks): void {
  const moov: Box = { type: 'moov', body: 0, end: b.length };
  for (const box of boxes(b, 0, b.length)) {
    if (box.type === 'trak') {
      const tkhd = child(b, box, 'tkhd');
      const mdia = child(b, box, 'mdia');
      const mdhd = mdia === undefined ? undefined : child(b, mdia, 'mdhd');
      if (tkhd === undefined || mdhd === undefined) continue;
      const trackId = b.readUInt32BE(tkhd.body + (b[tkhd.body] === 1 ? 20 : 12));
      tracks.timescales.set(trackId, b.readUInt32BE(mdhd.body + (b[mdhd.body] === 1 ? 20 : 12)));
    }
  }
  const mvex = child(b, moov, 'mvex');
  if (mvex !== undefined)
    for (const trex of boxes(b, mvex.body, mvex.end))
      if (trex.type === 'trex') tracks.trexDurations.set(b.readUInt32BE(trex.body + 4), b.readUInt32BE(trex.body + 12));
}

/** The part a moof describes (audio-only streams: its first traf). */
function readMoof(b: Buffer, tracks: Tracks): Fmp4Part {
  const traf = child(b, { type: 'moof', body: 0, end: b.length }, 'traf');
  if (traf === undefined) throw new Error('fMP4: moof without traf');
  const tfhd = child(b, traf, 'tfhd');
  const tfdt = child(b, traf, 'tfdt');
  if (tfhd === undefined || tfdt === undefined) throw new Error('fMP4: traf without tfhd or tfdt');
  const tfhdFlags = b.readUInt32BE(tfhd.body) & 0xffffff;
  const trackId = b.readUInt32BE(tfhd.body + 4);
  // Optional tfhd fields in order: base_data_offset (8), sample_description_index (4), default_sample_duration.
  const defaultDurationAt = tfhd.body + 8 + (tfhdFlags & 0x01 ? 8 : 0) + (tfhdFlags & 0x02 ? 4 : 0);
  const defaultDuration = tfhdFlags & 0x08 ? b.readUInt32BE(defaultDurationAt) : (tracks.trexDurations.get(trackId) ?? 0);
  const base = b[tfdt.body] === 1 ? Number(b.readBigUInt64BE(tfdt.body + 4)) : b.readUInt32BE(tfdt.body + 4);
  let duration = 0;
  for (const trun of boxes(b, traf.body, traf.end)) {
    if (trun.type !== 'trun') continue;
    const flags = b.readUInt32BE(trun.body) & 0xffffff;
    const count = b.readUInt32BE(trun.body + 4);
    if (!(flags & 0x100)) {
      duration += count * defaultDuration;
      continue;
    }
    // Per-sample records: duration (0x100) first, then size, flags, composition offset if present.
    const record = 4 * [0x100, 0x200, 0x400, 0x800].filter((f) => flags & f).length;
    let at = trun.body + 8 + (flags & 0x01 ? 4 : 0) + (flags & 0x04 ? 4 : 0);
    for (let i = 0; i < count; i++, at += record) duration += b.readUInt32BE(at);
  }
  const timescale = tracks.timescales.get(trackId) ?? tracks.timescales.values().next().value;
  if (timescale === undefined || timescale === 0) throw new Error('fMP4: moof before an init segment with mdhd');
  return { durationMs: (duration / timescale) * 1000, endMs: ((base + duration) / timescale) * 1000 };
}

/**
 * An incremental fMP4 reader: feed it the body as it arrives, split anywhere; it calls onPart for each
 * complete moof+mdat fragment. Timescales come from the init segment's mdhd per track (tkhd track_ID).
 */
export function fmp4Reader(onPart: (part: Fmp4Part) => void): (chunk: Buffer) => void {
  const tracks: Tracks = { timescales: new Map(), trexDurations: new Map() };
  let pending: Fmp4Part | undefined; // described by the last moof, arrives with the next mdat
  const header = Buffer.alloc(16);
  let headerLength = 0;
  let type = '';
  let left = -1; // bytes of the current box body still to come; -1 while reading a header
  let body: Buffer[] | undefined; // collected only for the boxes we parse

  const boxDone = () => {
    if (type === 'moov') readMoov(Buffer.concat(body!), tracks);
    else if (type === 'moof') pending = readMoof(Buffer.concat(body!), tracks);
    else if (type === 'mdat' && pending !== undefined) {
      onPart(pending);
      pending = undefined;
    }
  };

  return (chunk) => {
    let at = 0;
    while (at < chunk.length) {
      if (left < 0) {
        const need = headerLength >= 8 && header.readUInt32BE(0) === 1 ? 16 : 8; // size 1: a 64-bit largesize follows
        const n = Math.min(need - headerLength, chunk.length - at);
        chunk.copy(header, headerLength, at, at + n);
        headerLength += n;
        at += n;
        if (headerLength < need) continue;
        const size32 = header.readUInt32BE(0);
        if (size32 === 1 && headerLength < 16) continue;
        type = header.toString('latin1', 4, 8);
        // size 0: the box runs to the end of the stream, which a live stream never reaches.
        const size = size32 === 1 ? Number(header.readBigUInt64BE(8)) : size32 === 0 ? Infinity : size32;
        if (size < headerLength) throw new Error(`fMP4: bad ${type} box size ${size}`);
        left = size - headerLength;
        headerLength = 0;
        body = type === 'moov' || type === 'moof' ? [] : undefined;
        if (body !== undefined && left > MAX_PARSED_BOX) throw new Error(`fMP4: ${type} of ${left} bytes`);
      }
      const n = Math.min(left, chunk.length - at);
      if (body !== undefined && n > 0) body.push(chunk.subarray(at, at + n));
      at += n;
      left -= n;
      if (left === 0) {
        boxDone();
        left = -1;
      }
    }
  };
}
