/**
 * Cache key cost for one default request (288 points + 288 timestamps): the encoding alone, then
 * the candidate hashes over the same bytes. `cacheKey` (src/cache/key.ts) uses the winner;
 * its comment quotes these figures. Then what the grid form of `y_ts` saves.
 * Run: node dist/perf/cache/key.bench.js
 */
import { createHash, hash } from 'node:crypto'
import { bench, do_not_optimize, group, run, summary } from 'mitata'
import { cacheKey, encodeKeyBytes } from '../../src/cache/key.js'
import { benchRequest } from './request-fixture.js'

/**
 * The non-cryptographic alternative: two independent murmur3-style 32-bit lanes (64 bits) over
 * the bytes as 32-bit words. Fast in C, but in JS it is a loop of Math.imul per word.
 */
function hash2x32(buf: Uint8Array): string {
  const words = buf.length >>> 2
  const view = new Int32Array(buf.buffer, buf.byteOffset, words)
  let h1 = 0x9747b28c | 0
  let h2 = 0x85ebca6b | 0
  for (let i = 0; i < words; i++) {
    let k = view[i] as number
    k = Math.imul(k, 0xcc9e2d51)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, 0x1b873593)
    h1 ^= k
    h1 = (h1 << 13) | (h1 >>> 19)
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0
    h2 ^= Math.imul(k, 0x27d4eb2f)
    h2 = (h2 << 17) | (h2 >>> 15)
    h2 = (Math.imul(h2, 9) + 0x165667b1) | 0
  }
  for (let i = words << 2; i < buf.length; i++) {
    h1 = Math.imul(h1 ^ (buf[i] as number), 0x01000193)
    h2 = Math.imul(h2 ^ (buf[i] as number), 0x01000193)
  }
  h1 ^= buf.length
  h2 ^= buf.length
  h1 = Math.imul(h1 ^ (h1 >>> 16), 0x85ebca6b)
  h1 = Math.imul(h1 ^ (h1 >>> 13), 0xc2b2ae35)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 0x85ebca6b)
  h2 = Math.imul(h2 ^ (h2 >>> 13), 0xc2b2ae35)
  return ((h1 ^ (h1 >>> 16)) >>> 0).toString(36) + ':' + ((h2 ^ (h2 >>> 16)) >>> 0).toString(36)
}

const req = benchRequest(7)
console.log(`encoded key input: ${encodeKeyBytes(req).length} bytes`)

group('cache key, 288-point request', () => {
  summary(() => {
    bench('encode only', () => do_not_optimize(encodeKeyBytes(req)))
    bench('encode + crypto.hash sha1 (one-shot)', () => do_not_optimize(hash('sha1', encodeKeyBytes(req), 'base64')))
    bench('encode + crypto.hash md5 (one-shot)', () => do_not_optimize(hash('md5', encodeKeyBytes(req), 'base64')))
    bench('encode + crypto.hash sha256 (one-shot)', () => do_not_optimize(hash('sha256', encodeKeyBytes(req), 'base64')))
    bench('encode + createHash sha1', () =>
      do_not_optimize(createHash('sha1').update(encodeKeyBytes(req)).digest('base64')),
    )
    bench('encode + 2x32-bit murmur-style (JS)', () => do_not_optimize(hash2x32(encodeKeyBytes(req))))
    bench('cacheKey (as shipped)', () => do_not_optimize(cacheKey(req)))
  })
})

// Before `y_ts` had a grid form, its 288 instants were always hashed as 2 304 bytes. The same
// request with its second instant moved by 1 ms is off the grid (the check gives up at the third
// point), so it takes that path again: the pair shows what the grid form saves.
const offGrid = benchRequest(7)
;(offGrid.y_ts as Float64Array)[1] = (offGrid.y_ts as Float64Array)[1]! + 1
console.log(`encoded key input: on the grid ${encodeKeyBytes(req).length} bytes, off it ${encodeKeyBytes(offGrid).length} bytes`)
group('y_ts in the key, 288 points', () => {
  summary(() => {
    bench('before: y_ts hashed as an array (off the grid)', () => do_not_optimize(cacheKey(offGrid)))
    bench('now: y_ts on the grid, hashed as first/step/count', () => do_not_optimize(cacheKey(req)))
  })
})

await run()
