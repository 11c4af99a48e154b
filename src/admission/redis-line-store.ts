import type { Cluster, Redis } from 'ioredis';
import { luaScript, runScript, type LuaScript } from '../lib/redis-script.ts';
import {
  CHECKPOINT_GRANULARITY_MS,
  type Issued,
  type LineRules,
  type LineState,
  type LineStore,
  type Redemption,
} from './line-store.ts';

/**
 * The waiting room shared by every control node: one line per Space in Redis, changed only by Lua
 * scripts, so each step (take a number, redeem one, move now-serving) is atomic wherever it runs.
 * The scripts read Redis's own clock (`TIME`), so the nodes' clocks never meet in a line.
 *
 * Keys of a Space, all under its hash tag (one slot: it works on Redis Cluster), all expiring
 * `keepMs` after the line's last step:
 * - `amphi:line:{id}`       hash: epoch, last (last number issued), served (now-serving, a real),
 *                           at (ms, Redis time of the last step), rate/pc/pm (the ETA's EWMA);
 * - `amphi:line:{id}:cp`    list of "t s" points: when now-serving passed s (come-up times, for the TTL);
 * - `amphi:line:{id}:used`  bitmap: bit n set once number n was redeemed.
 *
 * The steps are `MemoryLineStore`'s, line for line (line-store.ts).
 */
export class RedisLineStore implements LineStore {
  readonly #redis: Redis | Cluster;
  readonly #prefix: string;

  /** `prefix` lets tests (or two deployments) share one Redis. */
  constructor(redis: Redis | Cluster, options: { readonly prefix?: string } = {}) {
    this.#redis = redis;
    this.#prefix = options.prefix ?? 'amphi:line:';
  }

  async issue(
    spaceId: string,
    rules: LineRules,
    options: { readonly epoch: string; readonly onlyIfWaiting: boolean },
  ): Promise<Issued> {
    const r = await this.#run(ISSUE, spaceId, rules, [options.epoch, options.onlyIfWaiting ? 1 : 0]);
    const number = Number(r[3]);
    return { issued: number > 0 ? { number, epoch: String(r[4]) } : undefined, line: lineOf(r) };
  }

  async redeem(spaceId: string, number: number, epoch: string, rules: LineRules): Promise<Redemption> {
    const r = await this.#run(REDEEM, spaceId, rules, [number, epoch]);
    const kind = String(r[3]);
    if (kind === 'not_yet') return { kind, line: lineOf(r) };
    if (kind === 'ok' || kind === 'expired' || kind === 'reused' || kind === 'gone') return { kind };
    throw new Error(`line store: unexpected redemption ${kind}`);
  }

  async status(spaceId: string, rules: LineRules): Promise<LineState> {
    return lineOf(await this.#run(STATUS, spaceId, rules, []));
  }

  async release(spaceId: string, count: number, rules: LineRules): Promise<LineState> {
    return lineOf(await this.#run(RELEASE, spaceId, rules, [count]));
  }

  async delete(spaceId: string): Promise<void> {
    await this.#redis.del(...this.#keys(spaceId));
  }

  #keys(spaceId: string): [string, string, string] {
    const hash = `${this.#prefix}{${spaceId}}`;
    return [hash, `${hash}:cp`, `${hash}:used`];
  }

  async #run(script: LuaScript, spaceId: string, rules: LineRules, extra: readonly (string | number)[]): Promise<unknown[]> {
    const args = [rules.perSecond, rules.ticketTtlMs, rules.etaHalfLifeMs, Math.ceil(rules.keepMs), ...extra];
    return (await runScript(this.#redis, script, this.#keys(spaceId), args)) as unknown[];
  }
}

/** Every reply starts with the line: served (a string: Lua numbers reach the client as integers), last, rate. */
function lineOf(r: unknown[]): LineState {
  return { served: Number(r[0]), lastIssued: Number(r[1]), perSecond: Number(r[2]) };
}

function script(body: string): LuaScript {
  return luaScript(PRELUDE + body);
}

/**
 * What every script shares. KEYS: hash, checkpoints, used. ARGV: perSecond, ticketTtlMs,
 * etaHalfLifeMs, keepMs, then the script's own. `s` is the line (nil: no room).
 */
const PRELUDE = `
local H, CP, USED = KEYS[1], KEYS[2], KEYS[3]
local RATE = math.max(0, tonumber(ARGV[1]))
local TTL, HALF, KEEP = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local SAMPLE = math.min(1000, HALF / 4)
local GRAIN = ${CHECKPOINT_GRANULARITY_MS}
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local function fmt(x) return string.format('%.17g', x) end
local function point(e) local t, v = string.match(e, '^(%S+) (%S+)$') return tonumber(t), tonumber(v) end

local s
local f = redis.call('HMGET', H, 'epoch', 'last', 'served', 'at', 'rate', 'pc', 'pm')
if f[1] then
  s = { epoch = f[1], last = tonumber(f[2]), served = tonumber(f[3]), at = tonumber(f[4]),
        rate = tonumber(f[5]), pc = tonumber(f[6]), pm = tonumber(f[7]) }
end

local function reply(...)
  if not s then return { '0', 0, fmt(RATE), ... } end
  return { fmt(s.served), s.last, fmt(s.rate), ... }
end

local function save()
  redis.call('HSET', H, 'epoch', s.epoch, 'last', s.last, 'served', fmt(s.served), 'at', fmt(s.at),
    'rate', fmt(s.rate), 'pc', fmt(s.pc), 'pm', fmt(s.pm))
  redis.call('PEXPIRE', H, KEEP)
  redis.call('PEXPIRE', CP, KEEP)
  redis.call('PEXPIRE', USED, KEEP)
end

local function eta(count, ms)
  s.pc = s.pc + math.max(0, count)
  s.pm = s.pm + math.max(0, ms)
  if s.pm < SAMPLE then return end
  local sample = s.pc / (s.pm / 1000)
  local weight = 1 - 2 ^ (-s.pm / HALF)
  s.rate = s.rate + weight * (sample - s.rate)
  s.pc, s.pm = 0, 0
end

local function checkpoint(t, v)
  local e = fmt(t) .. ' ' .. fmt(v)
  local prev = redis.call('LINDEX', CP, -2)
  if prev and t - point(prev) < GRAIN then redis.call('LSET', CP, -1, e) else redis.call('RPUSH', CP, e) end
end

local function advance()
  local from = s.at
  local elapsed = now - from
  if elapsed < 0 then s.at = now end
  if elapsed <= 0 then return end
  s.at = now
  local gap = s.last - s.served
  if gap <= 0 then return end
  local possible = RATE * elapsed / 1000
  if possible >= gap then
    local busy = gap / RATE * 1000
    s.served = s.last
    eta(gap, busy)
    checkpoint(from + busy, s.served)
  else
    s.served = s.served + possible
    eta(possible, elapsed)
    checkpoint(now, s.served)
  end
end

local function step()
  advance()
  local horizon = now - TTL
  while true do
    local second = redis.call('LINDEX', CP, 1)
    if not second or point(second) > horizon then break end
    redis.call('LPOP', CP)
  end
end
`;

/** ARGV[5]: the epoch for a new room; ARGV[6]: 1 = only if someone waits. Reply: line, number (0: none), epoch. */
const ISSUE = script(`
local only = ARGV[6] == '1'
if not s then
  if only then return reply(0, '') end
  s = { epoch = ARGV[5], last = 0, served = 0, at = now, rate = RATE, pc = 0, pm = 0 }
  redis.call('DEL', CP, USED)
end
step()
if s.last <= s.served then
  if only then save() return reply(0, '') end
  checkpoint(now, s.served)
end
s.last = s.last + 1
save()
return reply(s.last, s.epoch)
`);

/** ARGV[5]: the number; ARGV[6]: its room's epoch. Reply: line, then ok | not_yet | expired | reused | gone. */
const REDEEM = script(`
local n = tonumber(ARGV[5])
if not s or s.epoch ~= ARGV[6] then return reply('gone') end
step()
save()
if n > math.floor(s.served) then return reply('not_yet') end
local a, b = redis.call('LINDEX', CP, 0), redis.call('LINDEX', CP, 1)
local through = 0
if a then
  local t0, v0 = point(a)
  through = v0
  if b and now - TTL > t0 then
    local t1, v1 = point(b)
    through = v0 + (v1 - v0) * (now - TTL - t0) / (t1 - t0)
  end
end
if n <= math.floor(through) then return reply('expired') end
if redis.call('SETBIT', USED, n, 1) == 1 then return reply('reused') end
redis.call('PEXPIRE', USED, KEEP) -- the first SETBIT makes the bitmap: it expires with the rest
return reply('ok')
`);

const STATUS = script(`
if not s then return reply() end
step()
save()
return reply()
`);

/** ARGV[5]: how many to admit at once. */
const RELEASE = script(`
if not s then return reply() end
step()
local moved = math.max(0, math.min(math.floor(tonumber(ARGV[5])), s.last - s.served))
if moved > 0 then
  checkpoint(now, s.served)
  s.served = s.served + moved
  eta(moved, 0)
  checkpoint(now, s.served)
end
save()
return reply()
`);
