import type { FastifyReply } from 'fastify'
import { describe, expect, it } from 'vitest'
import { ReplyBatch } from '../../../src/http/reply-batch.js'

/** A reply that records what it was sent, and can be told to throw on its first send. */
function fakeReply(log: unknown[], name: string, throwFirst = false): { reply: FastifyReply; destroyed: () => boolean } {
  let throws = throwFirst
  let destroyed = false
  const reply = {
    send(payload: unknown) {
      log.push([name, payload instanceof Error ? `error: ${payload.message}` : payload])
      if (throws) {
        throws = false
        throw new Error('send failed')
      }
      return reply
    },
    raw: { destroy: () => (destroyed = true) },
  }
  return { reply: reply as unknown as FastifyReply, destroyed: () => destroyed }
}

const endOfTurn = (): Promise<void> => new Promise((r) => setImmediate(r))

describe('ReplyBatch', () => {
  it('sends nothing during the turn, then every reply in order at its end', async () => {
    const log: unknown[] = []
    const batch = new ReplyBatch()
    batch.send(fakeReply(log, 'a').reply, '{"a":1}')
    batch.send(fakeReply(log, 'b').reply, '{"b":2}')
    expect(log).toEqual([])
    expect(batch.size).toBe(2)
    await endOfTurn()
    expect(log).toEqual([
      ['a', '{"a":1}'],
      ['b', '{"b":2}'],
    ])
    expect(batch.size).toBe(0)
  })

  it('starts a new batch for replies of the next turn', async () => {
    const log: unknown[] = []
    const batch = new ReplyBatch()
    batch.send(fakeReply(log, 'a').reply, '1')
    await endOfTurn()
    batch.send(fakeReply(log, 'b').reply, '2')
    expect(log).toEqual([['a', '1']])
    await endOfTurn()
    expect(log).toEqual([
      ['a', '1'],
      ['b', '2'],
    ])
  })

  it('hands what send throws to the error path and still sends the others', async () => {
    const log: unknown[] = []
    const batch = new ReplyBatch()
    batch.send(fakeReply(log, 'bad', true).reply, '1')
    batch.send(fakeReply(log, 'good').reply, '2')
    await endOfTurn()
    expect(log).toEqual([
      ['bad', '1'],
      ['bad', 'error: send failed'],
      ['good', '2'],
    ])
  })
})
