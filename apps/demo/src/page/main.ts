/**
 * The playground page (bundled for the browser by bundle.ts): every panel talks to the
 * cluster through @rony/client and the generated services of proto/demo/playground.proto.
 */
import { mountChat } from './chat.ts'
import { mountControls } from './controls.ts'
import { byId, setData, setText } from './dom.ts'
import { mountEvents } from './events.ts'
import { mountKv } from './kv.ts'
import { mountLatency } from './latency.ts'
import { mountNodes } from './nodes.ts'
import { Session } from './session.ts'

const session = new Session()
mountNodes(session)
mountKv(session)
mountChat(session)
mountLatency(session)
mountControls(session)
mountEvents(session)

const status = byId('connection-status')
session.on('status', (state, detail) => {
  setData(status, 'state', state)
  setText(status, state === 'failing over' ? `${detail} lost: failing over…` : state)
  setText(byId('connected-node'), state === 'connected' ? detail : '…')
})
session.on('view', (view) => {
  setText(byId('leader'), view.leader || 'none')
  setData(byId('leader'), 'none', String(!view.leader))
  const leader = view.nodes.find((node) => node.id === view.leader)
  setText(byId('term'), leader ? String(leader.term) : '—')
})

void session.start()
