import { decodeEnvelope } from '@rony/envelope'
import type { GatewayConn } from '@rony/interface'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ClusterWatch, VIEW_PUSH_MS } from '../src/cluster/watch.ts'
import { C_ClusterEvent, C_ClusterView, demo } from '../src/gen/playground.js'

function fakeConn(persistent = true) {
  const sent: Uint8Array[] = []
  const conn = {
    id: 1,
    persistent,
    remoteAddress: 'memory:1',
    protocol: 'memory',
    closed: false,
    send: (bytes: Uint8Array) => sent.push(bytes) > 0,
    close: () => {},
  } as unknown as GatewayConn
  const ctors = () => sent.map((bytes) => decodeEnvelope(bytes).ctor)
  return { conn, sent, ctors }
}

function watchOf(gossip: Record<string, string> = {}) {
  return new ClusterWatch({
    id: 'n1',
    raft: () => ({ role: 'leader', term: 3, commit: 9, applied: 8, leader: 'n1', at: 1 }),
    gossip: (id) => gossip[id] ?? 'unknown',
    leader: () => 'n1',
  })
}

describe('ClusterWatch', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('builds the view from the supervisor table, its own Raft state and its gossip view', () => {
    const watch = watchOf({ n2: 'suspect' })
    watch.setTable([
      { id: 'n1', process: 'running', gateways: ['ws://a/ws'], raft: undefined },
      {
        id: 'n2',
        process: 'paused',
        gateways: ['ws://b/ws'],
        raft: { role: 'follower', term: 2, commit: 7, applied: 7, leader: 'n1', at: 5 },
      },
      { id: 'n3', process: 'killed', gateways: [], raft: undefined },
    ])
    const view = watch.view()
    expect([view.Node, view.Leader]).toEqual(['n1', 'n1'])
    expect(
      view.Nodes.map((n) => [n.ID, n.Process, n.Gossip, n.Role, Number(n.Term), Number(n.Applied)]),
    ).toEqual([
      ['n1', 'running', 'alive', 'leader', 3, 8],
      ['n2', 'paused', 'suspect', 'follower', 2, 7],
      ['n3', 'killed', 'unknown', 'none', 0, 0],
    ])
  })

  it('coalesces a burst of changes into one view push per VIEW_PUSH_MS', () => {
    const watch = watchOf()
    const { conn, ctors } = fakeConn()
    watch.watch(conn)
    for (let i = 0; i < 50; i++) watch.changed()
    vi.advanceTimersByTime(0)
    expect(ctors()).toEqual([C_ClusterView])
    for (let i = 0; i < 50; i++) {
      watch.changed()
      vi.advanceTimersByTime(VIEW_PUSH_MS / 10)
    }
    // 500 ms of changes every 10 ms: one push per 100 ms.
    expect(ctors().length).toBeLessThanOrEqual(1 + 5)
    expect(ctors().length).toBeGreaterThanOrEqual(5)
  })

  it('pushes each event at once, keeps it for Events, and forgets closed or HTTP connections', () => {
    const watch = watchOf()
    const ws = fakeConn()
    const http = fakeConn(false)
    watch.watch(ws.conn)
    watch.watch(http.conn)
    watch.event({ at: 10, kind: 'killed', node: 'n2', text: 'n2 was killed' })
    expect(ws.ctors()).toEqual([C_ClusterEvent])
    const pushed = demo.ClusterEvent.decode(decodeEnvelope(ws.sent[0]!).message)
    expect([pushed.Kind, pushed.Node, Number(pushed.At)]).toEqual(['killed', 'n2', 10])
    expect(http.sent).toEqual([])
    expect(watch.recent(0).map((e) => e.Text)).toEqual(['n2 was killed'])
    watch.forget(ws.conn)
    watch.event({ at: 11, kind: 'leader', node: 'n1', text: 'n1 leads' })
    vi.runAllTimers()
    expect(ws.ctors()).toEqual([C_ClusterEvent])
    expect(watch.recent(1).map((e) => e.Kind)).toEqual(['leader'])
  })
})
