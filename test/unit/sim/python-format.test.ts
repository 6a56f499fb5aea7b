import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { pyFloatStr, pyRepr } from '../../../src/sim/python-format.js'

describe('pyFloatStr', () => {
  // Expected strings printed by CPython 3 `str(float)`.
  it.each([
    [0.1, '0.1'],
    [0.5, '0.5'],
    [0.05, '0.05'],
    [0.975, '0.975'],
    [1e-5, '1e-05'],
    [1.5e-5, '1.5e-05'],
    [0.0001, '0.0001'],
    [0.00012, '0.00012'],
    [1e-7, '1e-07'],
    [-2.5e-10, '-2.5e-10'],
    [2, '2.0'],
    [-0, '-0.0'],
    [123.456, '123.456'],
    [0.30000000000000004, '0.30000000000000004'],
    [1e16, '1e+16'],
    [1.2345678901234568e17, '1.2345678901234568e+17'],
    [1e22, '1e+22'],
  ])('prints %s as Python does: %s', (x, expected) => {
    expect(pyFloatStr(x)).toBe(expected)
  })

  it('always reads back as the same number', () => {
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => Object.is(Number(pyFloatStr(x)), x)))
  })
})

describe('pyRepr', () => {
  it.each([
    ['vol', "'vol'"],
    ["it's", '"it\'s"'],
    ['a"b', "'a\"b'"],
    ['x\ny', "'x\\ny'"],
    ['both\'"', "'both\\'\"'"],
  ])('quotes %j as Python repr: %s', (s, expected) => {
    expect(pyRepr(s)).toBe(expected)
  })
})
