import { strings } from '../strings.ts';

/**
 * The recording as one .m4a file, made by the server (`GET /api/spaces/:id/recording.m4a`): a real
 * link, so the browser downloads it, shows progress, resumes it, and the keyboard and screen readers
 * reach it like any other link. The session cookie goes with it for Spaces that need an account.
 */
export function DownloadLink({ id }: { id: string }) {
  return (
    <a class="button secondary" href={`/api/spaces/${encodeURIComponent(id)}/recording.m4a`} download>
      {strings.replay.download}
    </a>
  );
}
