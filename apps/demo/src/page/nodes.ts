/**
 * The Nodes panel: one fixed-size card per node, updated in place from each ClusterView
 * (no card is rebuilt, so nothing jumps), the leader highlighted, plus this browser's own
 * round trip to every node it has a connection to.
 */
import { byId, el, setData, setText } from './dom.ts'
import { roundTrip } from './format.ts'
import type { Session } from './session.ts'
import type { NodeView, View } from './view.ts'

interface Card {
  root: HTMLElement
  role: HTMLElement
  here: HTMLElement
  process: HTMLElement
  gossip: HTMLElement
  term: HTMLElement
  commit: HTMLElement
  applied: HTMLElement
  report: HTMLElement
  ping: HTMLElement
  gateways: HTMLElement
}

const PING_EVERY_MS = 1_000
/** A Raft report older than this (seconds) is shown as stale: nodes report every 0.5 s. */
const STALE_S = 2

function fact(label: string, value: HTMLElement): HTMLElement {
  return el('div', {}, el('dt', { text: label }), value)
}

function makeCard(id: string): Card {
  const dd = (name: string, cls = ''): HTMLElement =>
    el('dd', { class: cls, testid: `node-${id}-${name}`, text: '—' })
  const card: Card = {
    root: el('article', { class: 'node', testid: `node-${id}` }),
    role: el('span', { class: 'badge role', testid: `node-${id}-role`, text: '—' }),
    here: el('span', {
      class: 'here',
      text: 'this page',
      title: 'the node this page is connected to',
    }),
    process: dd('process', 'state'),
    gossip: dd('gossip', 'state'),
    term: dd('term', 'num'),
    commit: dd('commit', 'num'),
    applied: dd('applied', 'num'),
    report: el('span', { class: 'num', testid: `node-${id}-report`, text: '—' }),
    ping: dd('ping', 'num'),
    gateways: el('ul', { class: 'gateways', testid: `node-${id}-gateways` }),
  }
  card.root.dataset.node = id
  card.root.append(
    el('header', {}, el('span', { class: 'node-id', text: id }), card.role, card.here),
    el(
      'dl',
      { class: 'facts' },
      fact('process', card.process),
      fact('gossip', card.gossip),
      fact('your ping', card.ping),
      fact('term', card.term),
      fact('commit', card.commit),
      fact('applied', card.applied),
    ),
    card.gateways,
    el('div', { class: 'report' }, card.report),
  )
  return card
}

function fill(card: Card, node: NodeView, view: View, home: string | undefined): void {
  setData(card.root, 'leader', String(node.id === view.leader))
  setData(card.root, 'home', String(node.id === home))
  setData(card.root, 'role', node.role)
  setData(card.root, 'process', node.process)
  setData(card.root, 'gossip', node.gossip)
  // A role nobody has confirmed lately is history, not state: say so.
  const reporting = node.reportedAt > 0
  const age = Math.max(0, view.at - node.reportedAt) / 1000
  const stale = !reporting || age > STALE_S || node.process === 'paused'
  setData(card.root, 'stale', String(stale))
  // A node that stopped reporting (killed, stopped) reports no role: show its last one.
  if (reporting && node.role !== 'none') card.root.dataset.lastRole = node.role
  const role = reporting ? node.role : (card.root.dataset.lastRole ?? node.role)
  setText(card.role, stale && role !== 'none' ? `was ${role}` : role)
  setText(card.process, node.process)
  if (node.process === 'killed' || node.process === 'stopped') setText(card.ping, 'no connection')
  setText(card.gossip, node.gossip)
  // A node that stopped reporting (killed, stopped) keeps its last known Raft numbers.
  if (reporting || card.term.textContent === '—') {
    setText(card.term, String(node.term))
    setText(card.commit, String(node.commit))
    setText(card.applied, String(node.applied))
  }
  setText(
    card.report,
    reporting
      ? `raft state reported ${age.toFixed(1)} s ago`
      : 'not reporting: last known raft state',
  )
  setData(card.report, 'stale', String(!reporting || age > STALE_S))
  const gateways = node.gateways.join('\n')
  if (card.gateways.dataset.list !== gateways) {
    card.gateways.dataset.list = gateways
    card.gateways.replaceChildren(
      ...node.gateways.map((address) => el('li', { text: address, title: address })),
    )
  }
}

export function mountNodes(session: Session): void {
  const grid = byId('nodes')
  const cards = new Map<string, Card>()

  const render = (view: View): void => {
    for (const node of view.nodes) {
      let card = cards.get(node.id)
      if (!card) {
        card = makeCard(node.id)
        cards.set(node.id, card)
        grid.append(card.root)
      }
      fill(card, node, view, session.home?.id)
    }
    // Keep cards in id order when a node appears late (`add`).
    const ordered = view.nodes.map((node) => cards.get(node.id)!.root)
    if (ordered.some((root, i) => grid.children[i] !== root)) grid.append(...ordered)
  }
  session.on('view', render)
  session.on('home', () => session.view && render(session.view))

  // This browser's round trip to each node it can reach: Cluster.Ping, one at a time per node.
  const inFlight = new Set<string>()
  setInterval(() => {
    for (const [id, card] of cards) {
      const link = session.links.get(id)
      if (!link || inFlight.has(id)) continue
      if (link.client.state !== 'open' && card.root.dataset.process !== 'running') {
        setText(card.ping, 'no connection')
        continue
      }
      inFlight.add(id)
      const started = performance.now()
      link.cluster
        .ping({}, { timeout: 2_000 })
        .then(
          () => setText(card.ping, roundTrip(performance.now() - started)),
          () => setText(card.ping, 'no answer'),
        )
        .finally(() => inFlight.delete(id))
    }
  }, PING_EVERY_MS)
}
