/**
 * The Events panel: ClusterEvent pushes, newest first, with their times; reloaded from
 * Cluster.Events when the page gets a (new) home node, without repeating what it shows.
 */
import type { demo } from '../gen/playground.js'
import { byId, el } from './dom.ts'
import { clockTime, toNumber } from './format.ts'
import type { Session } from './session.ts'

const KEEP = 200

export function mountEvents(session: Session): void {
  const list = byId('events')
  const seen = new Set<string>()

  function add(event: demo.IClusterEvent): void {
    const at = toNumber(event.At)
    const key = `${at}|${event.Kind}|${event.Node}|${event.Text}`
    if (seen.has(key)) return
    seen.add(key)
    const item = el(
      'li',
      { testid: 'event' },
      el('span', { class: 'time num', text: clockTime(at) }),
      el('span', { class: 'badge kind', text: event.Kind }),
      el('span', { class: 'ev-node', text: event.Node }),
      el('span', { class: 'text', text: event.Text, title: event.Text }),
    )
    item.dataset.kind = event.Kind ?? ''
    item.dataset.key = key
    item.dataset.at = String(at)
    // Newest first, also when a reload brings older ones after newer pushes.
    const before = [...list.children].find(
      (child) => Number((child as HTMLElement).dataset.at) < at,
    )
    list.insertBefore(item, before ?? null)
    while (list.children.length > KEEP) {
      const oldest = list.lastElementChild as HTMLElement
      seen.delete(oldest.dataset.key ?? '')
      oldest.remove()
    }
  }

  session.on('event', add)
  session.on('home', (link) => {
    link.cluster.events({ Limit: 100 }, { timeout: 5_000 }).then(
      (reply) => {
        for (const event of reply.Events) add(event)
      },
      () => {
        // Pushes still arrive; the backlog is a nicety.
      },
    )
  })
}
