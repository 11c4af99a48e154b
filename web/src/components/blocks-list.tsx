import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { strings } from '../strings.ts';
import { Avatar } from './avatar.tsx';

const t = strings.blocks;

/** The people the signed-in host blocked from all their Spaces, each to unblock. */
export function BlocksList() {
  const [blocks, setBlocks] = useState<{ id: string; handle: string }[]>();
  const load = async () => setBlocks((await api.GET('/api/me/blocks')).data?.blocks);
  useEffect(() => void load(), []);
  if (blocks === undefined) return null;
  const unblock = async (accountId: string) => {
    await api.DELETE('/api/me/blocks/{accountId}', { params: { path: { accountId } } });
    await load();
  };
  return (
    <section class="card" aria-labelledby="blocks-title">
      <h2 id="blocks-title">{t.title}</h2>
      {blocks.length === 0 && <p class="muted">{t.none}</p>}
      <ul class="list">
        {blocks.map((b) => (
          <li key={b.id} class="list-row">
            <Avatar handle={b.handle} size="sm" />
            <a class="grow" href={`/@${b.handle}`}>
              @{b.handle}
            </a>
            <button type="button" class="secondary small" onClick={() => void unblock(b.id)}>
              {t.unblock(b.handle)}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
