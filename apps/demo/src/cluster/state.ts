/**
 * The playground's replicated state: the key-value map and the chat room. Every node holds
 * a copy, changed only by the `replicated` handlers (in log order, with the leader's
 * stamped time), saved to and loaded from Raft snapshots as JSON.
 */

export interface KvEntry {
  readonly value: string
  /** The leader's clock when it was written, ms since the epoch. */
  readonly at: number
}

export interface ChatLine {
  readonly seq: number
  readonly from: string
  readonly text: string
  readonly at: number
  readonly via: string
}

/** The room keeps its latest lines only: the state (and every snapshot) stays small. */
export const CHAT_HISTORY = 200

export class PlaygroundState {
  kv = new Map<string, KvEntry>()
  chat: ChatLine[] = []
  /** The sequence number of the last line posted (lines before the kept ones count too). */
  chatSeq = 0
  /** Called after `snapshot()`: the node reports "snapshot taken". */
  onSnapshot: ((bytes: number) => void) | undefined

  post(line: Omit<ChatLine, 'seq'>): ChatLine {
    const posted = { ...line, seq: ++this.chatSeq }
    this.chat.push(posted)
    if (this.chat.length > CHAT_HISTORY) this.chat.splice(0, this.chat.length - CHAT_HISTORY)
    return posted
  }

  snapshot(): Uint8Array {
    const json = JSON.stringify({ kv: [...this.kv], chat: this.chat, chatSeq: this.chatSeq })
    const bytes = new TextEncoder().encode(json)
    this.onSnapshot?.(bytes.length)
    return bytes
  }

  restore(bytes: Uint8Array): void {
    const saved = JSON.parse(new TextDecoder().decode(bytes)) as {
      kv: [string, KvEntry][]
      chat: ChatLine[]
      chatSeq: number
    }
    this.kv = new Map(saved.kv)
    this.chat = saved.chat
    this.chatSeq = saved.chatSeq
  }
}
