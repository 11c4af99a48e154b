import { useEffect, useState } from 'preact/hooks';
import { api, type Analytics } from '../api.ts';
import { strings } from '../strings.ts';

const t = strings.analytics;

/** A bar chart of one figure per minute, drawn as SVG; its numbers are in its label and in a table for screen readers. */
function MinuteChart({ title, values, minutes, colour }: { title: string; values: number[]; minutes: string[]; colour: string }) {
  const peak = Math.max(1, ...values);
  const width = Math.max(values.length * 12, 120);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <svg
        viewBox={`0 0 ${width} 60`}
        preserveAspectRatio="none"
        role="img"
        aria-label={t.chartLabel(title, values.length, Math.max(0, ...values))}
      >
        <line x1="0" y1="59.5" x2={width} y2="59.5" stroke="var(--border)" />
        {values.map((v, i) => {
          const h = (v / peak) * 56;
          return <rect key={minutes[i]} x={i * 12 + 2} y={59 - h} width="8" height={h} rx="1.5" fill={colour} />;
        })}
      </svg>
      <table class="sr-only">
        <tbody>
          {values.map((v, i) => (
            <tr key={minutes[i]}>
              <th scope="row">{new Date(minutes[i]!).toLocaleTimeString()}</th>
              <td>{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

function seconds(ms: number): string {
  return ms < 60_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
}

/** The host's figures of one Space: totals as tiles, the join curve and listeners as charts (re-read every 10 s). */
export function AnalyticsView({ spaceId, live }: { spaceId: string; live: boolean }) {
  const [a, setA] = useState<Analytics>();
  useEffect(() => {
    let alive = true;
    const load = async () => {
      const { data } = await api.GET('/api/spaces/{id}/analytics', { params: { path: { id: spaceId } } });
      if (alive && data !== undefined) setA(data);
    };
    void load();
    const timer = live ? setInterval(() => void load(), 10_000) : undefined;
    return () => {
      alive = false;
      if (timer !== undefined) clearInterval(timer);
    };
  }, [spaceId, live]);
  if (a === undefined) return null;
  const minutes = a.minutes.map((m) => m.minute);
  const tiles: [string, number, string?][] = [
    [t.peak, a.peakListeners],
    [
      t.unique,
      a.uniqueListeners.accounts + a.uniqueListeners.anonymous,
      t.uniqueDetail(a.uniqueListeners.accounts, a.uniqueListeners.anonymous),
    ],
    [t.joins, a.joins],
    [
      t.waited,
      a.waitingRoom.waited,
      t.waitedDetail(a.waitingRoom.admitted, a.waitingRoom.left, seconds(a.waitingRoom.longestWaitMs)),
    ],
    [t.replayPlays, a.replayPlays],
    [t.reactions, a.reactions],
  ];
  return (
    <section class="analytics" aria-label={t.title}>
      <h3>{t.title}</h3>
      <dl class="tiles">
        {tiles.map(([label, value, detail]) => (
          <div key={label} class="tile">
            <dt>{label}</dt>
            <dd>
              <strong>{value}</strong>
              {detail !== undefined && <span class="muted small">{detail}</span>}
            </dd>
          </div>
        ))}
      </dl>
      {a.minutes.length === 0 ? (
        <p class="muted">{t.empty}</p>
      ) : (
        <div class="charts">
          <MinuteChart title={t.joinCurve} values={a.minutes.map((m) => m.joins)} minutes={minutes} colour="var(--chart-1)" />
          <MinuteChart
            title={t.listenersCurve}
            values={a.minutes.map((m) => m.peakListeners)}
            minutes={minutes}
            colour="var(--chart-2)"
          />
        </div>
      )}
    </section>
  );
}
