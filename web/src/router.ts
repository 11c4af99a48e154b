import { useEffect, useState } from 'preact/hooks';

/** Path routing with the History API: links are real hrefs (keyboard and middle-click work). */
export function navigate(path: string): void {
  history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  return path;
}

/** Intercepts clicks on same-origin links so pages change without reloads. */
export function onLinkClick(event: MouseEvent): void {
  const anchor = (event.target as HTMLElement).closest('a');
  if (anchor === null || anchor.origin !== location.origin || event.ctrlKey || event.metaKey || anchor.target !== '') return;
  event.preventDefault();
  navigate(anchor.pathname + anchor.search);
}
