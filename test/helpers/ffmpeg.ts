/** Tests decode with the benches' ffmpeg helper (one implementation). */
export { ffmpegDecode } from '../../bench/lib/ffmpeg.ts';
