/** Command-line values for the benches: numbers within bounds, choices from a list, clear errors otherwise. */

/** A number option within bounds; anything that is not a number is an error, not NaN. */
export function numberOption(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new Error(`--${name} must be a number, got "${value}"`);
  return Math.min(max, Math.max(min, n));
}

/** One of `choices`, or an error naming them. */
export function choiceOption<T extends string>(name: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) throw new Error(`--${name} must be ${choices.join(' or ')}`);
  return value as T;
}
