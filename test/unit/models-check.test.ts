import { describe, expect, it } from 'vitest'
import { DEFAULTS } from '../../src/config/defaults.js'
import { checkModels, configuredModels, isInstalled, missingModels } from '../../src/models-check.js'
import { capturingLogger } from '../helpers/log-lines.js'

const adapter = { ...DEFAULTS.adapter, model: 'chronos2', warmup: { ...DEFAULTS.adapter.warmup, models: ['timesfm', 'chronos2'] } }

describe('the start-up model check', () => {
  it('checks the default model and the warm-up models, once each', () => {
    expect(configuredModels(adapter)).toEqual(['chronos2', 'timesfm'])
  })

  it("takes tollama's name:tag listing as installing the bare name", () => {
    expect(isInstalled('chronos2', ['chronos2:latest'])).toBe(true)
    expect(isInstalled('chronos2', ['chronos2'])).toBe(true)
    expect(isInstalled('chronos2:small', ['chronos2:latest'])).toBe(false)
    expect(isInstalled('chronos', ['chronos2:latest'])).toBe(false)
    expect(missingModels(adapter, ['mock', 'timesfm:latest'])).toEqual(['chronos2'])
  })

  it('warns once per missing model, naming it, what is installed and what to do', async () => {
    const { logger, lines } = capturingLogger()
    await checkModels(adapter, () => Promise.resolve(['mock']), logger)
    const warnings = lines().filter((l) => l.event === 'model_missing')
    expect(warnings.map((l) => l.model)).toEqual(['chronos2', 'timesfm'])
    expect(String(warnings[0]!.msg)).toContain("model 'chronos2' is not installed")
    expect(String(warnings[0]!.msg)).toContain('installed: mock')
    expect(String(warnings[0]!.msg)).toContain('TSFM_MODEL')
  })

  it('says so when tollama cannot be asked, and stays quiet when every model is there', async () => {
    const a = capturingLogger()
    await checkModels(adapter, () => Promise.resolve(null), a.logger)
    expect(a.lines().map((l) => l.event)).toEqual(['models_unchecked'])
    const b = capturingLogger()
    await checkModels(adapter, () => Promise.resolve(['chronos2:latest', 'timesfm']), b.logger)
    expect(b.lines()).toEqual([])
  })
})
