/**
 * The key-value half of "Use it": Put, Get (linearizable or local), Delete and List through
 * the node chosen in "via node", each answer showing who served it and how.
 */
import type { demo } from '../gen/playground.js'
import { byId, el, setData, setText } from './dom.ts'
import { clockTime, describeError, roundTrip, toNumber } from './format.ts'
import type { Link } from './links.ts'
import type { Session } from './session.ts'

/** Keys the page's latency probes write; List leaves them out and says how many. */
export const PROBE_PREFIX = '_probe/'
const isProbeKey = (key: string | null | undefined): boolean =>
  key?.startsWith(PROBE_PREFIX) ?? false

const REQUEST = { timeout: 6_000 } as const

interface Answer {
  text: string
  served: demo.IServed | null | undefined
  /** A Raft index and what it is: the write's log entry, or what the reader had applied. */
  index?: { label: string; value: number }
  entries?: readonly demo.IEntry[]
}

export function mountKv(session: Session): void {
  const key = byId<HTMLInputElement>('kv-key')
  const value = byId<HTMLInputElement>('kv-value')
  const via = byId<HTMLSelectElement>('kv-via')
  const read = byId<HTMLSelectElement>('kv-read')
  const result = byId('kv-result')
  const out = {
    op: byId('kv-op'),
    rtt: byId('kv-rtt'),
    text: byId('kv-text'),
    node: byId('kv-served-node'),
    leader: byId('kv-served-leader'),
    forwarded: byId('kv-served-forwarded'),
    index: byId('kv-index'),
    indexLabel: byId('kv-index-label'),
    entries: byId('kv-entries'),
  }

  session.on('view', (view) => {
    const ids = view.nodes.map((node) => node.id)
    const have = [...via.options].slice(1).map((option) => option.value)
    if (have.join() !== ids.join()) {
      const chosen = via.value
      via.replaceChildren(via.options[0]!, ...ids.map((id) => el('option', { text: id })))
      via.value = ids.includes(chosen) ? chosen : ''
    }
  })

  const target = (): Link | undefined => (via.value ? session.links.get(via.value) : session.home)

  async function run(op: string, call: (link: Link) => Promise<Answer>): Promise<void> {
    const link = target()
    const label = `${op} via ${link?.id ?? (via.value || 'the connected node')}`
    setText(out.op, label)
    setText(out.rtt, '')
    setData(result, 'state', 'pending')
    const started = performance.now()
    try {
      if (!link) throw new Error(`no connection to ${via.value || 'any node'} yet`)
      const answer = await call(link)
      setText(out.rtt, `${roundTrip(performance.now() - started)} · ${clockTime(Date.now())}`)
      setText(out.text, answer.text)
      setText(out.node, answer.served?.Node || '—')
      setText(out.leader, answer.served?.Leader || 'none known')
      setText(
        out.forwarded,
        answer.served ? (answer.served.Forwarded ? 'yes, to the leader' : 'no') : '—',
      )
      setText(out.indexLabel, answer.index?.label ?? 'raft index')
      setText(out.index, answer.index ? String(answer.index.value) : '—')
      const shown = (answer.entries ?? []).filter((entry) => !isProbeKey(entry.Key))
      const hidden = (answer.entries?.length ?? 0) - shown.length
      out.entries.replaceChildren(
        ...shown.map((entry) =>
          el(
            'li',
            {},
            el('span', { class: 'k', text: entry.Key ?? '' }),
            el('span', { class: 'v', text: entry.Value ?? '' }),
          ),
        ),
        ...(hidden ? [el('li', { class: 'muted', text: `+ ${hidden} latency probe key(s)` })] : []),
      )
      setData(result, 'state', 'ok')
    } catch (error) {
      setText(out.rtt, `${roundTrip(performance.now() - started)} · ${clockTime(Date.now())}`)
      setText(out.text, describeError(error))
      for (const field of [out.node, out.leader, out.forwarded, out.index]) setText(field, '—')
      out.entries.replaceChildren()
      setData(result, 'state', 'error')
    }
  }

  byId('kv-form').addEventListener('submit', (event) => {
    event.preventDefault()
    const k = key.value
    const v = value.value
    void run(`Put ${k}`, async (link) => {
      const reply = await link.kv.put({ Key: k, Value: v }, { ...REQUEST, idempotent: true })
      return {
        text: `${k} = ${v}${reply.Existed ? `  (was ${reply.Previous})` : '  (new key)'}`,
        served: reply.Served,
        index: { label: 'log entry', value: toNumber(reply.Index) },
      }
    })
  })

  byId('kv-get').addEventListener('click', () => {
    const k = key.value
    const local = read.value === 'local'
    void run(`Get ${k} (${local ? 'local' : 'linearizable'})`, async (link) => {
      const reply = local
        ? await link.kv.getLocal({ Key: k }, REQUEST)
        : await link.kv.get({ Key: k }, REQUEST)
      const written = toNumber(reply.WrittenAt)
      return {
        text: reply.Found
          ? `${k} = ${reply.Value}${written ? `  (written ${clockTime(written)})` : ''}`
          : `${k} is not set`,
        served: reply.Served,
        index: { label: 'applied', value: toNumber(reply.Applied) },
      }
    })
  })

  byId('kv-delete').addEventListener('click', () => {
    const k = key.value
    void run(`Delete ${k}`, async (link) => {
      const reply = await link.kv.delete({ Key: k }, { ...REQUEST, idempotent: true })
      return {
        text: reply.Existed ? `${k} deleted` : `${k} was not set`,
        served: reply.Served,
        index: { label: 'log entry', value: toNumber(reply.Index) },
      }
    })
  })

  byId('kv-list').addEventListener('click', () => {
    void run('List', async (link) => {
      const reply = await link.kv.list({ Limit: 100 }, REQUEST)
      const count = reply.Entries.filter((entry) => !isProbeKey(entry.Key)).length
      return { text: `${count} key(s)`, served: reply.Served, entries: reply.Entries }
    })
  })
}
