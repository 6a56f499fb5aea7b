import { call } from './daemon.js'

/** The daemon's L2 is up (its gauge says so). */
export async function untilUp(d: { readonly url: string }): Promise<void> {
  await until(async () => /^tsfm_cache_l2_up 1$/m.test((await call(d.url, '/metrics')).text))
}

/** The daemon's `tsfm_cache_l2_total{result}`. */
export async function l2Count(d: { readonly url: string }, result: string): Promise<number> {
  const text = (await call(d.url, '/metrics')).text
  const m = new RegExp(`tsfm_cache_l2_total\\{result="${result}"\\} (\\d+)`).exec(text)
  return m === null ? 0 : Number(m[1])
}

/** Polls `test` every 10 ms until it holds, at most `ms`. */
export async function until(test: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!(await test())) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((ok) => setTimeout(ok, 10))
  }
}
