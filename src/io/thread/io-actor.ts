import * as Comlink from 'comlink'
import { parentPort, receiveMessageOnPort, type MessagePort } from 'node:worker_threads'
import { systemClock } from '../../clock/clock.js'
import { nodeEndpoint } from '../comlink-node.js'
import type { IoActorApi, IoActorConfig, IoHostMessage, IoPortMessage } from '../actor-api.js'
import { IoEngine } from './engine.js'
import type { LaneStats, UpstreamOutcome, UpstreamRequestRecord } from '../types.js'

/**
 * Worker-thread entry of the I/O actor (SPEC §7): owns the undici pool and the multiplexer
 * (engine.ts); it answers the host's control calls (io-host.ts) through comlink and takes jobs
 * and sends outcomes on the data port `init` hands it (actor-api.ts). Deadlines arrive as
 * numbers on the shared clock (`performance.timeOrigin + performance.now()`), comparable here.
 */


let engine: IoEngine | null = null
let port: MessagePort | null = null

function sendOutcomes(outcomes: UpstreamOutcome[], records: UpstreamRequestRecord[], lanes: LaneStats[] | null): void {
  const transfer: ArrayBuffer[] = []
  for (const o of outcomes) if (o.ok) transfer.push(o.values.buffer as ArrayBuffer)
  const msg: IoPortMessage = { t: 'outcomes', outcomes, records, lanes }
  port?.postMessage(msg, transfer)
}

const api: IoActorApi = {
  init(cfg: IoActorConfig, p: MessagePort): void {
    if (engine !== null) throw new Error('I/O actor already initialised')
    port = p
    const e = new IoEngine({
      adapter: cfg.adapter,
      lanes: cfg.lanes,
      clock: systemClock,
      onOutcomes: sendOutcomes,
      onHealth: (health) => {
        const msg: IoPortMessage = { t: 'health', health }
        port?.postMessage(msg)
      },
    })
    engine = e
    p.on('message', (m: IoHostMessage) => (Array.isArray(m) ? e.submit(m) : e.cancel(m.tickets)))
    e.start()
  },
  health(probe) {
    return engine!.health(probe)
  },
  stats() {
    return engine!.stats()
  },
  tags() {
    return engine!.installedModels()
  },
  async close() {
    // The host posts its last jobs on the data port just before this call, which comes on
    // another port: nothing orders the two. A message is queued on its port when it is posted,
    // so the jobs are there to take now, before the engine stops accepting.
    if (port !== null && engine !== null) {
      for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
        const msg = m.message as IoHostMessage
        if (Array.isArray(msg)) engine.submit(msg)
        else engine.cancel(msg.tickets)
      }
    }
    await engine?.close()
    port?.close()
    port = null
  },
  crashForTest() {
    setImmediate(() => {
      throw new Error('I/O actor crash requested by a test')
    })
  },
}

Comlink.expose(api, nodeEndpoint(parentPort!))
