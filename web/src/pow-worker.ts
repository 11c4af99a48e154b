/// <reference lib="webworker" />
/** Solves a join's proof of work off the page's main thread (the UI keeps painting the line). */
import { solve } from '../../src/shared/pow-solve.ts';

self.onmessage = (event: MessageEvent<string>) => {
  void solve(event.data).then((solution) => self.postMessage(solution));
};
