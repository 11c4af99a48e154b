/** Waiting tickets by number, lowest first: who the line's next answer lets in. A binary min-heap. */
export class ByNumber<T extends { readonly number: number }> {
  readonly #a: T[] = [];

  get size(): number {
    return this.#a.length;
  }

  peek(): T | undefined {
    return this.#a[0];
  }

  push(x: T): void {
    const a = this.#a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]!.number <= a[i]!.number) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }

  pop(): T | undefined {
    const a = this.#a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]!.number < a[m]!.number) m = l;
        if (r < a.length && a[r]!.number < a[m]!.number) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}
