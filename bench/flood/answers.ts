/**
 * HTTP/1.1 answers read off a keep-alive connection with requests pipelined on it, just enough to
 * count statuses: cheap, so the junk generator is not the bound. Pure: text in, statuses out.
 */

/** The statuses of the complete answers at the start of `pending`, and the text after them. */
export function takeAnswers(pending: string): { statuses: number[]; rest: string } {
  const statuses: number[] = [];
  let rest = pending;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const head = rest.slice(0, end);
    const status = Number(head.slice(9, 12));
    let next = end + 4;
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (length !== null) next += Number(length[1]);
    else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
      const last = rest.indexOf('\r\n0\r\n\r\n', end + 2);
      if (last < 0) break;
      next = last + 7;
    }
    if (rest.length < next) break;
    rest = rest.slice(next);
    statuses.push(status);
  }
  return { statuses, rest };
}
