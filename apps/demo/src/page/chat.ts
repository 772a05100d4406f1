/**
 * The chat half of "Use it": the room's replicated history on load (and again after a
 * failover, for what was pushed meanwhile), new messages as the home node pushes them, and
 * posting through the home node.
 */
import type { demo } from '../gen/playground.js'
import { byId, el } from './dom.ts'
import { clockTime, describeError, toNumber } from './format.ts'
import type { Session } from './session.ts'

/** Messages kept on the page; older ones scroll away. */
const KEEP = 200
const HISTORY = 50

export function mountChat(session: Session): void {
  const log = byId('chat-log')
  const name = byId<HTMLInputElement>('chat-name')
  const text = byId<HTMLInputElement>('chat-text')
  const shown = new Map<number, HTMLElement>()
  name.value =
    localStorage.getItem('rony-playground-name') ??
    `guest-${Math.floor(Math.random() * 9000 + 1000)}`

  function add(message: demo.IChatMessage): void {
    const seq = toNumber(message.Seq)
    if (shown.has(seq)) return
    const item = el(
      'li',
      { testid: 'chat-message' },
      el('span', { class: 'time num', text: clockTime(toNumber(message.At)) }),
      el('span', { class: 'from', text: message.From }),
      el('span', { class: 'text', text: message.Text }),
      el('span', { class: 'via', text: `#${seq} via ${message.Via}` }),
    )
    item.dataset.seq = String(seq)
    shown.set(seq, item)
    // In Seq order even when a history reload and a push cross.
    const next = [...log.children].find((child) => Number((child as HTMLElement).dataset.seq) > seq)
    log.insertBefore(item, next ?? null)
    while (shown.size > KEEP) {
      const oldest = log.firstElementChild as HTMLElement
      shown.delete(Number(oldest.dataset.seq))
      oldest.remove()
    }
    log.scrollTop = log.scrollHeight
  }

  function note(textContent: string): void {
    log.append(el('li', { class: 'muted', text: textContent }))
    log.scrollTop = log.scrollHeight
  }

  session.on('chat', add)
  session.on('home', (link) => {
    link.chat.history({ Limit: HISTORY }, { timeout: 5_000 }).then(
      (reply) => {
        for (const message of reply.Messages) add(message)
      },
      (error: unknown) => note(`history from ${link.id}: ${describeError(error)}`),
    )
  })

  byId('chat-form').addEventListener('submit', (event) => {
    event.preventDefault()
    const link = session.home
    const body = text.value.trim()
    if (!body || !link) return
    localStorage.setItem('rony-playground-name', name.value)
    text.value = ''
    link.chat
      .post({ From: name.value || 'guest', Text: body }, { timeout: 6_000, idempotent: true })
      .then(
        (reply) => reply.Message && add(reply.Message),
        (error: unknown) => note(`not sent: ${describeError(error)}`),
      )
  })
}
