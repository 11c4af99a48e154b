/** `amphi publish`: speak into a Space over WHIP from the command line (a tone or an audio file). */
export function publishCommand(argv: readonly string[]): Promise<number> {
  process.stderr.write(`amphi publish: not built yet (${argv.length} arguments)\n`);
  return Promise.resolve(2);
}
