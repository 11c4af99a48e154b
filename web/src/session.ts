import { useEffect, useState } from 'preact/hooks';
import { api, type Account } from './api.ts';

/** Who is signed in (the session cookie), shared by every page. */
let current: Account | null | undefined;
const listeners = new Set<(a: Account | null) => void>();

export async function refreshMe(): Promise<void> {
  const { data } = await api.GET('/api/sessions/current');
  current = data?.account ?? null;
  for (const l of listeners) l(current);
}

export function useMe(): Account | null | undefined {
  const [me, setMe] = useState(current);
  useEffect(() => {
    listeners.add(setMe);
    if (current === undefined) void refreshMe();
    return () => listeners.delete(setMe);
  }, []);
  return me;
}
