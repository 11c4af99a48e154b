/** A text field of a submitted form ('' when absent). */
export function field(form: HTMLFormElement | EventTarget | null, name: string): string {
  const value = new FormData(form as HTMLFormElement).get(name);
  return typeof value === 'string' ? value : '';
}
