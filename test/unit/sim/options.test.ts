import { describe, expect, it } from 'vitest'
import { parseSimArgs } from '../../../src/sim/options.js'

describe('parseSimArgs', () => {
  it('reads every option of the issue', () => {
    const args = parseSimArgs([
      '--port', '11435',
      '--host', 'localhost',
      '--latency-fixed', '42',
      '--latency-per-series', '0.9',
      '--serial',
      '--cold-start', '2500',
      '--keep-alive', '60000',
      '--models', 'mock,chronos2',
      '--spread', '0.25',
      '--faults', 'hang=0.2,http_503=0.1',
      '--schedule', 'reset,ok,http_503',
      '--retry-after', '2',
      '--seed', '42',
      '--no-api-route',
      '--slow-body-ms', '500',
      '--hang-ms', '1500',
    ])
    expect(args).toEqual({
      help: false,
      options: {
        port: 11435,
        host: 'localhost',
        latencyFixedMs: 42,
        latencyPerSeriesMs: 0.9,
        serial: true,
        coldStartMs: 2500,
        keepAliveMs: 60000,
        models: ['mock', 'chronos2'],
        spread: 0.25,
        faults: { hang: 0.2, http_503: 0.1 },
        schedule: ['reset', 'ok', 'http_503'],
        retryAfterS: 2,
        seed: 42,
        disableApiRoute: true,
        slowBodyMs: 500,
        hangMs: 1500,
      },
    })
  })

  it('reads a cold start and a keep-alive of 0 (cold starts off; unload after every request)', () => {
    expect(parseSimArgs(['--cold-start=0', '--keep-alive=0'])).toEqual({ help: false, options: { coldStartMs: 0, keepAliveMs: 0 } })
  })

  it('accepts --flag=value', () => {
    expect(parseSimArgs(['--port=0', '--faults=reset=1'])).toEqual({ help: false, options: { port: 0, faults: { reset: 1 } } })
  })

  it('returns help for --help and -h, wherever they are', () => {
    expect(parseSimArgs(['--port', '1', '--help'])).toEqual({ help: true })
    expect(parseSimArgs(['-h'])).toEqual({ help: true })
  })

  it('gives no option for an empty argv (defaults apply later)', () => {
    expect(parseSimArgs([])).toEqual({ help: false, options: {} })
  })

  it.each([
    [['--port', 'x'], '--port must be an integer, got "x"'],
    [['--port', '1.5'], '--port must be an integer, got "1.5"'],
    [['--spread', ''], '--spread must be a number, got ""'],
    [['--latency-fixed'], '--latency-fixed needs a value, got null'],
    [['--serial=yes'], '--serial takes no value, got "yes"'],
    [['--faults', 'hang'], '--faults must be a list of kind=probability, got "hang"'],
    [['--faults', 'hang=lots'], '--faults must be a number, got "lots"'],
    [['--cold-start', '-5'], '--cold-start must be a number of milliseconds >= 0, got "-5"'],
    [['--cold-start', '2s'], '--cold-start must be a number of milliseconds >= 0, got "2s"'],
    [['--cold-start=Infinity'], '--cold-start must be a number of milliseconds >= 0, got "Infinity"'],
    [['--keep-alive', ''], '--keep-alive must be a number of milliseconds >= 0, got ""'],
    [['--keep-alive'], '--keep-alive needs a value, got null'],
    [['--verbose'], 'unknown option "--verbose" (see --help)'],
    [['11435'], 'unknown option "11435" (see --help)'],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parseSimArgs(argv)).toThrow(message)
  })
})
