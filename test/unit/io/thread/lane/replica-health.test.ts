import { describe, expect, it } from 'vitest'
import { HEALTHY, nextHealth, type ReplicaEvent, type ReplicaHealth } from '../../../../../src/io/thread/lane/replica-health.js'

const run = (events: ReplicaEvent[], from: ReplicaHealth = HEALTHY): ReplicaHealth => events.reduce((h, e) => nextHealth(h, e, 3), from)

describe('a replica slot', () => {
  it('goes down at the first refused connection', () => {
    expect(run(['unreachable']).state).toBe('down')
  })

  it('goes down after failures_to_open failures in a row, and an answer resets the count', () => {
    expect(run(['failure', 'failure']).state).toBe('up')
    expect(run(['failure', 'failure', 'failure']).state).toBe('down')
    expect(run(['failure', 'failure', 'ok', 'failure', 'failure']).state).toBe('up')
  })

  it('stays down whatever late answers say, until a probe passes', () => {
    expect(run(['unreachable', 'ok', 'ok', 'probe_failed']).state).toBe('down')
    expect(run(['unreachable', 'probe_ok']).state).toBe('trial')
  })

  it('comes back up when its trial batch answers, and goes down again when it fails', () => {
    expect(run(['unreachable', 'probe_ok', 'ok']).state).toBe('up')
    expect(run(['unreachable', 'probe_ok', 'failure']).state).toBe('down')
  })
})
