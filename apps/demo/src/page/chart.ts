/**
 * A small canvas line chart of round trips over a sliding time window: one line per
 * series, failed probes as marks along the top. Bounded: samples older than the window go.
 */

export interface Series {
  readonly name: string
  readonly color: string
}

interface Sample {
  at: number
  ms: number | undefined // undefined: the probe failed
}

export class LatencyChart {
  private readonly samples = new Map<string, Sample[]>()
  private readonly canvas: HTMLCanvasElement
  private readonly series: readonly Series[]
  private readonly windowMs: number
  private dirty = true

  /** Draws `series` on `canvas`, the last `windowMs` milliseconds of them. */
  constructor(canvas: HTMLCanvasElement, series: readonly Series[], windowMs = 30_000) {
    this.canvas = canvas
    this.series = series
    this.windowMs = windowMs
    for (const s of series) this.samples.set(s.name, [])
    const frame = (): void => {
      if (this.dirty) this.draw()
      requestAnimationFrame(frame)
    }
    requestAnimationFrame(frame)
    // The window slides even without new samples.
    setInterval(() => {
      this.dirty = true
    }, 200)
  }

  add(series: string, ms: number | undefined, at = performance.now()): void {
    const list = this.samples.get(series)
    if (!list) return
    list.push({ at, ms })
    while (list.length > 0 && list[0]!.at < at - this.windowMs) list.shift()
    this.dirty = true
  }

  /** Median and last of the successful round trips in the window, and the failures. */
  stats(series: string): { median: number | undefined; last: number | undefined; failed: number } {
    const list = this.samples.get(series) ?? []
    const ok = list.flatMap((s) => (s.ms === undefined ? [] : [s.ms]))
    const sorted = [...ok].sort((a, b) => a - b)
    return {
      median: sorted.length ? sorted[Math.floor(sorted.length / 2)] : undefined,
      last: ok.at(-1),
      failed: list.length - ok.length,
    }
  }

  private draw(): void {
    this.dirty = false
    const { canvas } = this
    const ratio = window.devicePixelRatio || 1
    const width = canvas.clientWidth
    const height = canvas.clientHeight
    if (
      canvas.width !== Math.round(width * ratio) ||
      canvas.height !== Math.round(height * ratio)
    ) {
      canvas.width = Math.round(width * ratio)
      canvas.height = Math.round(height * ratio)
    }
    const g = canvas.getContext('2d')
    if (!g) return
    g.setTransform(ratio, 0, 0, ratio, 0, 0)
    g.clearRect(0, 0, width, height)
    const css = getComputedStyle(canvas)
    const grid = css.getPropertyValue('--grid').trim() || '#e5e7eb'
    const ink = css.getPropertyValue('--ink-muted').trim() || '#6b7280'
    const fail = css.getPropertyValue('--bad').trim() || '#dc2626'
    const left = 54
    const right = 14
    const top = 12
    const bottom = 20
    const plotW = width - left - right
    const plotH = height - top - bottom
    const now = performance.now()
    const all = [...this.samples.values()].flat()
    const highest = Math.max(1, ...all.flatMap((s) => (s.ms === undefined ? [] : [s.ms])))
    const step = niceStep(highest, 4)
    const max = Math.ceil(highest / step) * step
    const x = (at: number): number => left + plotW * (1 - (now - at) / this.windowMs)
    const y = (ms: number): number => top + plotH * (1 - Math.min(ms, max) / max)

    g.font = '11px ui-sans-serif, system-ui, sans-serif'
    g.lineWidth = 1
    g.fillStyle = ink
    g.textBaseline = 'middle'
    g.textAlign = 'right'
    for (let ms = 0; ms <= max + step / 2; ms += step) {
      g.strokeStyle = grid
      g.beginPath()
      g.moveTo(left, Math.round(y(ms)) + 0.5)
      g.lineTo(width - right, Math.round(y(ms)) + 0.5)
      g.stroke()
      g.fillText(`${formatTick(ms)} ms`, left - 6, y(ms))
    }
    g.textBaseline = 'alphabetic'
    for (let s = 0; s <= this.windowMs / 1000; s += 10) {
      g.textAlign = s === 0 ? 'right' : 'center'
      g.fillText(
        s === 0 ? 'now' : `-${s} s`,
        left + plotW * (1 - (s * 1000) / this.windowMs),
        height - 4,
      )
    }

    g.save()
    g.beginPath()
    g.rect(left, 0, plotW, height)
    g.clip()
    for (const series of this.series) {
      const list = this.samples.get(series.name) ?? []
      g.strokeStyle = series.color
      g.fillStyle = series.color
      g.lineWidth = 1.75
      g.lineJoin = 'round'
      g.beginPath()
      let pen = false
      for (const sample of list) {
        if (sample.ms === undefined) {
          pen = false
          continue
        }
        if (pen) g.lineTo(x(sample.at), y(sample.ms))
        else g.moveTo(x(sample.at), y(sample.ms))
        pen = true
      }
      g.stroke()
      g.fillStyle = fail
      for (const sample of list) {
        if (sample.ms === undefined) g.fillRect(x(sample.at) - 1.5, top - 8, 3, 6)
      }
    }
    g.restore()
  }
}

/** A grid step of 1, 2 or 5 times a power of ten giving at most `lines` steps up to `value`. */
function niceStep(value: number, lines: number): number {
  const rough = value / lines
  const power = 10 ** Math.floor(Math.log10(rough))
  for (const step of [1, 2, 5]) if (step * power >= rough) return step * power
  return 10 * power
}

function formatTick(ms: number): string {
  return ms >= 10 || ms === 0 ? ms.toFixed(0) : ms.toFixed(1)
}
