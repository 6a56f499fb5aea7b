import { randomUUID } from 'node:crypto'
import { createClient } from 'redis'
import type { Clock, TimerHandle } from '../../clock/clock.js'
import type { CacheL2Config } from '../../config/types.js'
import type { Logger } from '../../log.js'
import type { ForecastResponse } from '../../response.js'
import { decodeEntry, encodeEntry } from './codec.js'
import { L2Health } from './health.js'
import { LOOKUP_FOUND, LOOKUP_LEASED_TO_US, LOOKUP_SCRIPT, RELEASE_SCRIPT, doneChannel, leaseKey, valueKey } from './lease.js'
import type { L2Port, L2Result, L2Sink } from './port.js'

export interface RedisL2Options {
  readonly config: CacheL2Config
  /** ttl_s + stale_while_revalidate_s in ms: how long Redis keeps an answer. */
  readonly keepMs: number
  readonly clock: Clock
  readonly logger: Logger
  readonly sink: L2Sink
  readonly onUp: (up: boolean) => void
}

type Client = ReturnType<typeof createClient>

const ERROR: L2Result = Object.freeze({ kind: 'error' })
const LEASED: L2Result = Object.freeze({ kind: 'leased' })
const GAVE_UP: L2Result = Object.freeze({ kind: 'published', entry: null })

/** The key the probe looks up (never stored: its lease, 1 ms, lapses at once). */
const PROBE_KEY = 'probe'
/** While down, Redis is probed this often (the lookup script on its own key); the first timely answer brings L2 back. */
const PROBE_INTERVAL_MS = 250
/** Reconnect back-off: fast at first (a restart takes ~10 ms), capped so a dead Redis costs little. */
const RECONNECT_MAX_MS = 500

/**
 * The shared cache on node-redis: one connection for commands, one subscribed to the
 * publication channel. Commands are never queued while disconnected (`disableOfflineQueue`):
 * a lookup then fails at once and the request goes on without L2, instead of waiting for a
 * reconnection. Every failure ends as an `error` result or a dropped write; none reaches a client.
 */
export class RedisL2 implements L2Port {
  readonly #cfg: CacheL2Config
  readonly #keepMs: number
  readonly #clock: Clock
  readonly #sink: L2Sink
  readonly #cmd: Client
  readonly #sub: Client
  readonly #health: L2Health
  /** Identifies this daemon's leases (released only by their holder). */
  readonly #id = randomUUID()
  readonly #channel: string
  /** Tickets waiting for the publication of each key. */
  readonly #waiting = new Map<string, { marketId: string; tickets: number[] }>()
  #probe: TimerHandle | null = null
  #probing = false
  #closed = false

  private constructor(opts: RedisL2Options) {
    this.#cfg = opts.config
    this.#keepMs = opts.keepMs
    this.#clock = opts.clock
    this.#sink = opts.sink
    this.#channel = doneChannel(opts.config.key_prefix)
    this.#health = new L2Health(opts.logger, opts.onUp)
    const reconnect = (retries: number): number => Math.min(10 * 2 ** retries, RECONNECT_MAX_MS)
    this.#cmd = createClient({
      url: opts.config.url ?? 'redis://127.0.0.1:6379',
      disableOfflineQueue: true,
      socket: { reconnectStrategy: reconnect, connectTimeout: 1000, noDelay: true },
    })
    // The subscriber keeps its SUBSCRIBE queued until connected, and node-redis subscribes again
    // after every reconnection.
    this.#sub = this.#cmd.duplicate({ disableOfflineQueue: false })
    // node-redis emits 'error' on every failed connection attempt; without a listener an
    // EventEmitter would throw it. The state change is logged once by L2Health.
    this.#cmd.on('error', () => {
      this.#health.down('connection')
      this.#scheduleProbe(PROBE_INTERVAL_MS)
    })
    this.#sub.on('error', () => undefined)
  }

  /**
   * Connects in the background: the runner starts (and serves from L1 and the upstream) whether
   * Redis is there or not, and L2 comes up when it answers.
   */
  static start(opts: RedisL2Options): RedisL2 {
    const l2 = new RedisL2(opts)
    l2.#cmd.connect().catch(() => undefined)
    l2.#sub.connect().catch(() => undefined)
    l2.#sub.subscribe(l2.#channel, (message) => l2.#onPublished(message)).catch(() => undefined)
    l2.#scheduleProbe(0)
    return l2
  }

  get up(): boolean {
    return this.#health.up && this.#cmd.isReady
  }

  lookup(ticket: number, key: string, marketId: string): void {
    const prefix = this.#cfg.key_prefix
    const sent = this.#clock.now()
    this.#cmd
      .eval(LOOKUP_SCRIPT, { keys: [valueKey(prefix, key), leaseKey(prefix, key)], arguments: [this.#id, String(this.#cfg.lease_ms)] })
      .then(
        (reply) => this.#sink(ticket, this.#lookupResult(reply, key, marketId, sent)),
        (e: unknown) => this.#failed(ticket, e),
      )
  }

  wait(ticket: number, key: string, marketId: string): void {
    const w = this.#waiting.get(key)
    if (w === undefined) this.#waiting.set(key, { marketId, tickets: [ticket] })
    else w.tickets.push(ticket)
    // The publication may have come before this daemon started waiting (it travels on the other
    // connection): look once more. A late duplicate is dropped by its ticket.
    this.#cmd.get(valueKey(this.#cfg.key_prefix, key)).then(
      (text) => {
        const entry = decodeEntry(text, marketId)
        if (entry !== null) this.#deliver(key, { kind: 'published', entry })
      },
      () => undefined,
    )
  }

  unwait(ticket: number, key: string): void {
    const w = this.#waiting.get(key)
    if (w === undefined) return
    const i = w.tickets.indexOf(ticket)
    if (i >= 0) w.tickets.splice(i, 1)
    if (w.tickets.length === 0) this.#waiting.delete(key)
  }

  store(key: string, value: ForecastResponse, storedAt: number): void {
    // Written even while L2 is judged down (slow, not gone): daemons waiting for this key's
    // lease hear of the answer when Redis catches up, rather than waiting out their bound.
    if (!this.#cmd.isReady) return
    const entry = encodeEntry(value, storedAt)
    const prefix = this.#cfg.key_prefix
    // Two commands written together (node-redis pipelines commands of one tick): the answer is
    // stored before any daemon hears it is there.
    this.#cmd.set(valueKey(prefix, key), entry, { expiration: { type: 'PX', value: Math.max(1, Math.round(this.#keepMs)) } }).catch(() => undefined)
    this.#cmd.publish(this.#channel, `${key} ${entry}`).catch(() => undefined)
  }

  abandon(key: string): void {
    if (!this.#cmd.isReady) return
    this.#cmd.eval(RELEASE_SCRIPT, { keys: [leaseKey(this.#cfg.key_prefix, key)], arguments: [this.#id] }).catch(() => undefined)
    this.#cmd.publish(this.#channel, `${key} `).catch(() => undefined)
  }

  timedOut(): void {
    this.#health.timedOut()
    if (!this.#health.up) this.#scheduleProbe(PROBE_INTERVAL_MS)
  }

  async close(): Promise<void> {
    this.#closed = true
    if (this.#probe !== null) this.#clock.clearTimeout(this.#probe)
    this.#probe = null
    this.#waiting.clear()
    for (const c of [this.#cmd, this.#sub]) {
      if (c.isOpen) await c.close().catch(() => c.destroy())
      else c.destroy()
    }
  }

  #lookupResult(reply: unknown, key: string, marketId: string, sent: number): L2Result {
    // Only a timely reply says Redis is well: the late replies a stall leaves behind would
    // otherwise bring L2 back up the moment it went down, and flap.
    if (this.#clock.now() - sent <= this.#cfg.command_timeout_ms) this.#health.ok()
    if (!Array.isArray(reply)) return ERROR
    const code = reply[0] as number
    if (code === LOOKUP_FOUND) {
      const entry = decodeEntry(reply[1], marketId)
      // Garbage under the key: a miss without the lease; this daemon's answer overwrites it.
      return entry === null ? { kind: 'miss', key, leader: false, invalid: true } : { kind: 'hit', entry }
    }
    if (code === LOOKUP_LEASED_TO_US) return { kind: 'miss', key, leader: true, invalid: false }
    return LEASED
  }

  #failed(ticket: number, e: unknown): void {
    this.#health.down(e instanceof Error ? e.name : 'error')
    this.#scheduleProbe(PROBE_INTERVAL_MS)
    this.#sink(ticket, ERROR)
  }

  #onPublished(message: string): void {
    const sp = message.indexOf(' ')
    if (sp < 0) return
    const key = message.slice(0, sp)
    const w = this.#waiting.get(key)
    if (w === undefined) return
    const entry = sp === message.length - 1 ? null : decodeEntry(message.slice(sp + 1), w.marketId)
    this.#deliver(key, entry === null ? GAVE_UP : { kind: 'published', entry })
  }

  #deliver(key: string, result: L2Result): void {
    const w = this.#waiting.get(key)
    if (w === undefined) return
    this.#waiting.delete(key)
    for (const t of w.tickets) this.#sink(t, result)
  }

  #scheduleProbe(ms: number): void {
    if (this.#closed || this.#probe !== null || this.#probing) return
    this.#probe = this.#clock.setTimeout(() => this.#runProbe(), ms, true)
  }

  /**
   * While down (and at start): the lookup itself, on a key of its own whose lease lapses at once;
   * a reply within the command timeout brings L2 back up. Not a PING: a PING answered in time
   * said nothing about the lookup's own path, which on a fresh process (node-redis's EVAL
   * encoding, the reply's decoding, compiled on first use) took longer than the 5 ms bound — the
   * first request of each new daemon missed L2 (measured: the README's three-daemon walkthrough,
   * 2 of 3 daemons' first lookups past 5 ms, none after). Now that first run is the probe's.
   */
  #runProbe(): void {
    this.#probe = null
    if (this.#closed || this.#health.up) return
    if (!this.#cmd.isReady) return this.#scheduleProbe(PROBE_INTERVAL_MS)
    this.#probing = true
    const sent = this.#clock.now()
    const prefix = this.#cfg.key_prefix
    this.#cmd.eval(LOOKUP_SCRIPT, { keys: [valueKey(prefix, PROBE_KEY), leaseKey(prefix, PROBE_KEY)], arguments: [this.#id, '1'] }).then(
      () => {
        this.#probing = false
        if (this.#clock.now() - sent <= this.#cfg.command_timeout_ms) this.#health.ok()
        else this.#scheduleProbe(PROBE_INTERVAL_MS)
      },
      () => {
        this.#probing = false
        this.#scheduleProbe(PROBE_INTERVAL_MS)
      },
    )
  }
}
