import { useEffect, useState } from 'preact/hooks';

/** Where the server serves a user's picture (it answers 404 for those without one). */
export function avatarUrl(handle: string): string {
  return `/api/users/${encodeURIComponent(handle)}/avatar`;
}

/** Background colours for initials, each dark enough for white text (contrast 4.8:1 to 7:1, AA in both themes). */
const PALETTE = ['#b91c1c', '#c2410c', '#a16207', '#15803d', '#0f766e', '#0369a1', '#1d4ed8', '#6d28d9', '#a21caf', '#be185d'];

/** The same handle always gets the same colour (a small FNV-1a hash of it). */
export function avatarColour(handle: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < handle.length; i++) hash = Math.imul(hash ^ handle.charCodeAt(i), 0x01000193);
  return PALETTE[(hash >>> 0) % PALETTE.length]!;
}

/**
 * One or two letters: the initials of the display name's first two words, else of the handle's first
 * two parts (`web_host` is WH), else the handle's first two letters.
 */
export function initials(handle: string, displayName?: string): string {
  const words = (displayName ?? '').trim().split(/\s+/).filter(Boolean);
  const parts = words.length > 0 ? words : handle.split(/[^\p{L}]+/u).filter(Boolean);
  const letters = parts.length >= 2 ? parts[0]!.charAt(0) + parts[1]!.charAt(0) : (parts[0] ?? handle).slice(0, 2);
  return letters.toUpperCase();
}

export type AvatarSize = 'sm' | 'md' | 'lg';

interface AvatarProps {
  readonly handle: string;
  readonly displayName?: string | undefined;
  /** The picture; without it (or when it fails to load) the initials show. */
  readonly src?: string | undefined;
  readonly size?: AvatarSize;
  /** A ring around it (animated, or still under reduced motion). */
  readonly speaking?: boolean;
  /**
   * Whether the name is shown next to it (the default): then the avatar is decoration, hidden from
   * screen readers. Otherwise it is an image named after the person.
   */
  readonly decorative?: boolean;
}

/**
 * A person's picture, or their initials on a colour of their own. The initials are drawn by CSS from
 * a data attribute, so they never add letters to the text around them (what a link or a tile reads).
 */
export function Avatar({ handle, displayName, src, size = 'md', speaking = false, decorative = true }: AvatarProps) {
  const [failed, setFailed] = useState(false);
  useEffect(() => setFailed(false), [src]);
  const name = displayName !== undefined && displayName !== '' ? `${displayName} (@${handle})` : `@${handle}`;
  const showImage = src !== undefined && !failed;
  return (
    <span
      class={`avatar avatar-${size}${speaking ? ' speaking' : ''}`}
      style={{ '--avatar-bg': avatarColour(handle) }}
      data-initials={initials(handle, displayName)}
      {...(decorative ? { 'aria-hidden': 'true' } : { role: 'img', 'aria-label': name })}
    >
      {showImage && (
        <img
          src={src}
          alt=""
          loading="lazy"
          decoding="async"
          onError={() => setFailed(true)}
          onLoad={(e) => (e.target as HTMLImageElement).classList.add('loaded')}
        />
      )}
    </span>
  );
}
