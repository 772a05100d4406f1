/**
 * The Break it panel: per node, Kill, Pause, Restart and Isolate/Heal, sent as Control.*
 * to a live node other than the target (so killing the node this page is connected to
 * still gets its answer), which has the supervisor do it.
 */
import { byId, el, setData, setText } from './dom.ts'
import { clockTime, describeError } from './format.ts'
import type { Link } from './links.ts'
import type { Session } from './session.ts'
import type { View } from './view.ts'

const CONTROL_TIMEOUT_MS = 20_000
const PAUSE_SECONDS = 5

type Action = 'kill' | 'pause' | 'restart' | 'isolate'

interface Row {
  root: HTMLTableRowElement
  state: HTMLElement
  buttons: Record<Action, HTMLButtonElement>
  busy: boolean
}

/** Which actions make sense in each process state. */
function allowed(process: string): Record<Action, boolean> {
  const up = process === 'running' || process === 'isolated'
  return {
    kill: up || process === 'paused' || process === 'starting',
    pause: process === 'running',
    restart: process === 'killed' || process === 'stopped',
    isolate: up,
  }
}

export function mountControls(session: Session): void {
  const body = byId('controls')
  const status = byId('control-status')
  const rows = new Map<string, Row>()

  /** A live node to carry the request: home unless it is the target, else any open one. */
  function carrier(target: string): Link | undefined {
    if (session.home && session.home.id !== target) return session.home
    const open = session.links.ids().find((id) => id !== target && session.links.isOpen(id))
    return open ? session.links.get(open) : undefined
  }

  async function act(id: string, action: Action, row: Row): Promise<void> {
    const isolated = row.root.dataset.process === 'isolated'
    const link = carrier(id)
    const what = action === 'isolate' ? (isolated ? 'heal' : 'isolate') : action
    if (!link) {
      setText(status, `${clockTime(Date.now())}  no other node to ask to ${what} ${id}`)
      return
    }
    row.busy = true
    for (const button of Object.values(row.buttons)) button.disabled = true
    setData(status, 'state', 'pending')
    setText(status, `${clockTime(Date.now())}  ${what} ${id} (asked through ${link.id})…`)
    const options = { timeout: CONTROL_TIMEOUT_MS }
    try {
      const reply =
        action === 'kill'
          ? await link.control.kill({ Node: id }, options)
          : action === 'pause'
            ? await link.control.pause({ Node: id, Seconds: PAUSE_SECONDS }, options)
            : action === 'restart'
              ? await link.control.restart({ Node: id }, options)
              : await link.control.isolate({ Node: id, On: !isolated }, options)
      setData(status, 'state', 'ok')
      setText(
        status,
        `${clockTime(Date.now())}  ${what} ${id}: now ${reply.Process} (through ${link.id})`,
      )
    } catch (error) {
      setData(status, 'state', 'error')
      setText(status, `${clockTime(Date.now())}  ${what} ${id} failed: ${describeError(error)}`)
    } finally {
      row.busy = false
      if (session.view) render(session.view)
    }
  }

  function makeRow(id: string): Row {
    const button = (action: Action, label: string, cls: string): HTMLButtonElement => {
      const b = el('button', { class: cls, text: label, testid: `${action}-${id}` })
      b.type = 'button'
      return b
    }
    const row: Row = {
      root: el('tr'),
      state: el('span', { class: 'badge state', testid: `control-state-${id}`, text: '—' }),
      buttons: {
        kill: button('kill', 'Kill', 'danger'),
        pause: button('pause', `Pause ${PAUSE_SECONDS} s`, ''),
        restart: button('restart', 'Restart', 'good'),
        isolate: button('isolate', 'Isolate', ''),
      },
      busy: false,
    }
    for (const [action, b] of Object.entries(row.buttons)) {
      b.addEventListener('click', () => void act(id, action as Action, row))
    }
    row.root.append(
      el('th', { text: id, title: 'the leader is starred' }),
      el('td', {}, row.state),
      ...Object.values(row.buttons).map((b) => el('td', {}, b)),
    )
    return row
  }

  function render(view: View): void {
    for (const node of view.nodes) {
      let row = rows.get(node.id)
      if (!row) {
        row = makeRow(node.id)
        rows.set(node.id, row)
        body.append(row.root)
      }
      setData(row.root, 'process', node.process)
      setData(row.root, 'leader', String(node.id === view.leader))
      setText(row.state, node.process)
      setText(row.buttons.isolate, node.process === 'isolated' ? 'Heal' : 'Isolate')
      const can = allowed(node.process)
      for (const [action, b] of Object.entries(row.buttons)) {
        b.disabled = row.busy || !can[action as Action]
      }
    }
  }
  session.on('view', render)
}
