/**
 * The Latency panel: a few times a second, three round trips from this browser, each at
 * most one in flight: local (Cluster.Ping on the home node), replicated (Kv.Put through
 * the leader) and forwarded (Kv.Put through a follower, which hands it to the leader).
 */
import { LatencyChart, type Series } from './chart.ts'
import { byId, el, setText } from './dom.ts'
import { roundTrip } from './format.ts'
import { PROBE_PREFIX } from './kv.ts'
import type { Link } from './links.ts'
import type { Session } from './session.ts'

const PROBE_EVERY_MS = 400
const PROBE_TIMEOUT_MS = 2_000

interface Probe extends Series {
  readonly testid: string
  readonly explain: string
  /** The node to probe through, if there is one now. */
  via(session: Session): Link | undefined
  run(link: Link, n: number): Promise<unknown>
}

export function mountLatency(session: Session): void {
  const probeKey = `${PROBE_PREFIX}${Math.random().toString(36).slice(2, 8)}`
  const open = (link: Link | undefined): Link | undefined =>
    link?.client.state === 'open' ? link : undefined
  const probes: Probe[] = [
    {
      name: 'local',
      color: '#0ea5e9',
      testid: 'latency-local',
      explain: 'Cluster.Ping, answered by the connected node',
      via: (s) => open(s.home),
      run: (link) => link.cluster.ping({}, { timeout: PROBE_TIMEOUT_MS }),
    },
    {
      name: 'replicated',
      color: '#8b5cf6',
      testid: 'latency-replicated',
      explain: 'Kv.Put through the leader: a Raft commit',
      via: (s) => open(s.leader()),
      run: (link, n) =>
        link.kv.put({ Key: probeKey, Value: String(n) }, { timeout: PROBE_TIMEOUT_MS }),
    },
    {
      name: 'forwarded',
      color: '#f59e0b',
      testid: 'latency-forwarded',
      explain: 'Kv.Put through a follower, forwarded to the leader',
      via: (s) => {
        const leader = s.view?.leader
        const followers = (s.view?.nodes ?? []).filter(
          (node) => node.id !== leader && node.process === 'running' && s.links.isOpen(node.id),
        )
        // The home node when it is a follower, so the path is the one the page uses.
        const pick = followers.find((node) => node.id === s.home?.id) ?? followers[0]
        return leader && pick ? s.links.get(pick.id) : undefined
      },
      run: (link, n) =>
        link.kv.put({ Key: probeKey, Value: String(n) }, { timeout: PROBE_TIMEOUT_MS }),
    },
  ]

  const chart = new LatencyChart(byId<HTMLCanvasElement>('latency-chart'), probes)
  const toggle = byId<HTMLInputElement>('probe-on')
  const legend = new Map(
    probes.map((probe) => {
      const value = el('span', { class: 'num value', testid: probe.testid, text: '—' })
      const via = el('span', { class: 'via', text: '' })
      const item = el(
        'li',
        { title: probe.explain },
        el('span', { class: 'swatch' }),
        el('span', { class: 'name', text: probe.name }),
        via,
        value,
      )
      item.style.setProperty('--swatch', probe.color)
      byId('latency-legend').append(item)
      return [probe.name, { value, via }] as const
    }),
  )

  const inFlight = new Set<string>()
  let n = 0
  setInterval(() => {
    if (!toggle.checked) return
    for (const probe of probes) {
      const slot = legend.get(probe.name)!
      const link = probe.via(session)
      setText(slot.via, link ? `via ${link.id}` : 'no route')
      if (!link || inFlight.has(probe.name)) continue
      inFlight.add(probe.name)
      const started = performance.now()
      probe
        .run(link, ++n)
        .then(
          () => chart.add(probe.name, performance.now() - started),
          () => chart.add(probe.name, undefined),
        )
        .finally(() => {
          inFlight.delete(probe.name)
          const { median, failed } = chart.stats(probe.name)
          setText(
            slot.value,
            `${median === undefined ? '—' : roundTrip(median)}${failed ? ` · ${failed} failed` : ''}`,
          )
        })
    }
  }, PROBE_EVERY_MS)
}
