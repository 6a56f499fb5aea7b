/**
 * Mailbox cost: offer N messages, then drain them, against a plain JS array used as a queue
 * (push + shift, what a cell would do without a ring), and the actor mode where each offer
 * processes its message at once. Run: node dist/perf/actor/mailbox.bench.js
 */
import { bench, do_not_optimize, group, run, summary } from 'mitata'
import { Mailbox } from '../../src/actor/mailbox.js'

interface Msg {
  readonly id: number
  answered: boolean
}

const SIZES = [1, 64, 1024] as const
const messages: Msg[] = Array.from({ length: 1024 }, (_, id) => ({ id, answered: false }))

let sink = 0
function consume(m: Msg): void {
  sink += m.id
}

for (const n of SIZES) {
  const box = new Mailbox<Msg>(n)
  const actor = new Mailbox<Msg>(n, consume)
  const array: Msg[] = []

  group(`offer + drain ${n} message${n === 1 ? '' : 's'}`, () => {
    summary(() => {
      bench('Mailbox offer, then shift until empty', () => {
        for (let i = 0; i < n; i++) box.offer(messages[i] as Msg)
        let m: Msg | undefined
        while ((m = box.shift()) !== undefined) consume(m)
        do_not_optimize(sink)
      })
      bench('Mailbox offer, then drain(fn)', () => {
        for (let i = 0; i < n; i++) box.offer(messages[i] as Msg)
        do_not_optimize(box.drain(consume))
      })
      bench('Mailbox actor mode (offer processes at once)', () => {
        for (let i = 0; i < n; i++) actor.offer(messages[i] as Msg)
        do_not_optimize(sink)
      })
      bench('Array push, then shift until empty', () => {
        for (let i = 0; i < n; i++) array.push(messages[i] as Msg)
        let m: Msg | undefined
        while ((m = array.shift()) !== undefined) consume(m)
        do_not_optimize(sink)
      })
    })
  })
}

// Steady state of a busy cell: the queue never empties, one in, one out.
const steadyBox = new Mailbox<Msg>(64)
const steadyArray: Msg[] = []
for (let i = 0; i < 63; i++) {
  steadyBox.offer(messages[i] as Msg)
  steadyArray.push(messages[i] as Msg)
}
group('steady state at 63 queued: one offer + one shift', () => {
  summary(() => {
    let i = 0
    bench('Mailbox', () => {
      steadyBox.offer(messages[i++ & 1023] as Msg)
      do_not_optimize(steadyBox.shift())
    })
    let j = 0
    bench('Array push + shift', () => {
      steadyArray.push(messages[j++ & 1023] as Msg)
      do_not_optimize(steadyArray.shift())
    })
  })
})

await run()
