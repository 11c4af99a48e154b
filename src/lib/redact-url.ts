/** A URL safe to print: its password replaced (a database or Redis URL in a log line or `amphi config`). */
export function redactUrlPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = 'redacted';
    return parsed.toString();
  } catch {
    return '(set, unparsable)';
  }
}
