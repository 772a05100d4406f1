/**
 * Leader election (Raft paper §5.2, §5.4.1) with pre-vote (thesis §9.6) and leadership
 * transfer's forced elections (thesis §3.10).
 *
 * @module
 */

import { tally } from './configuration.js'
import type { PreVote, PreVoteResponse, RequestVote, RequestVoteResponse } from './messages.js'
import { bcastAppend } from './replication.js'
import type { RaftState } from './state.js'

/**
 * - `'pre-vote'`: ask whether an election could be won, without touching the term.
 * - `'election'`: a real election at term + 1.
 * - `'transfer'`: a real election the leader asked for with TimeoutNow; voters do not
 *   ignore it for having heard from that leader recently.
 */
export type CampaignKind = 'pre-vote' | 'election' | 'transfer'

/** The election timeout elapses on followers and candidates. */
export function tickElection(s: RaftState): void {
  s.electionElapsed++
  if (s.promotable() && s.electionElapsed >= s.randomizedElectionTimeout) {
    s.electionElapsed = 0
    campaign(s, s.opts.preVote ? 'pre-vote' : 'election')
  }
}

/**
 * The (pre-)election outcome so far. While the group's founding is not known to be over
 * ({@link RaftState.founding}), an election needs the vote of every founder, not a majority;
 * the group's first entry commits only once every founder holds it (`replication.ts`), and
 * the leader appends nothing after it until then. So servers that bootstrap different,
 * overlapping lists found at most one group:
 * - a server votes at most once per term, so two overlapping lists never win one term;
 * - a server whose log holds a first entry refuses a founding candidate whose log is empty
 *   (§5.4.1) or ends at another first entry (`otherFirstEntry`: a later term would
 *   otherwise win), so no list including it wins once it holds one;
 * - a first entry commits only on every founder, the servers of the overlap included, so
 *   once it is committed no other list can win, and a list whose entry missed a server
 *   that then went to another group never commits. A majority would not do: a majority of
 *   one list may miss every server of another, which then founds a second group.
 * The first entry is the group's identity (no separate group id is needed). The founders of
 * a list that lost keep a log ending at its first entry, uncommitted, and never lead.
 */
function outcome(s: RaftState): 'won' | 'lost' | 'pending' {
  return tally(s.config.current, s.votes, s.founding())
}

export function campaign(s: RaftState, kind: CampaignKind): void {
  if (kind === 'pre-vote') s.becomePreCandidate()
  else s.becomeCandidate()
  // A pre-vote asks about the term the real election would use.
  const term = kind === 'pre-vote' ? s.term + 1 : s.term
  s.votes.set(s.id, true)
  if (outcome(s) === 'won') {
    won(s, kind)
    return
  }
  for (const voter of s.config.current.voters) {
    if (voter.id === s.id) continue
    const common = {
      from: s.id,
      to: voter.id,
      term,
      lastIndex: s.log.lastIndex,
      lastTerm: s.log.lastTerm,
    }
    if (kind === 'pre-vote') s.send({ type: 'pre-vote', ...common })
    else s.send({ type: 'request-vote', ...common, transfer: kind === 'transfer' })
  }
}

function won(s: RaftState, kind: CampaignKind): void {
  if (kind === 'pre-vote') {
    campaign(s, 'election')
    return
  }
  s.becomeLeader()
  bcastAppend(s)
}

/**
 * Decides a (pre-)vote request whose term is at least ours (older ones are refused before
 * this). A server votes at most once per term (§5.2), not while it follows a leader of that
 * term, and only for a candidate whose log is at least as up-to-date as its own (§5.4.1). A
 * pre-vote is granted on the log alone when it is for a later term, and changes nothing.
 */
export function handleVoteRequest(s: RaftState, m: PreVote | RequestVote): void {
  const pre = m.type === 'pre-vote'
  const canVote =
    s.votedFor === m.from ||
    (s.votedFor === undefined && s.leaderId === undefined) ||
    (pre && m.term > s.term)
  const granted = canVote && s.log.isUpToDate(m.lastIndex, m.lastTerm) && !otherFirstEntry(s, m)
  if (granted && !pre) {
    s.votedFor = m.from
    // Granting a vote defers our own candidacy (§5.2).
    s.electionElapsed = 0
  }
  s.send({
    type: pre ? 'pre-vote-response' : 'request-vote-response',
    from: s.id,
    to: m.from,
    // A granted pre-vote answers in the requested term, so the pre-candidate counts it.
    term: granted ? m.term : s.term,
    granted,
  })
}

/**
 * Whether a founding candidate's log ends at a first entry other than ours: that of another
 * group (servers of one list hold one first entry: a second would need a founding election
 * every holder of the first refuses).
 */
function otherFirstEntry(s: RaftState, m: PreVote | RequestVote): boolean {
  if (m.lastIndex !== 1) return false
  const own = s.log.term(1)
  return own !== undefined && s.log.lastIndex >= 1 && own !== m.lastTerm
}

export function handleVoteResponse(s: RaftState, m: PreVoteResponse | RequestVoteResponse): void {
  const pre = m.type === 'pre-vote-response'
  if (s.role !== (pre ? 'pre-candidate' : 'candidate')) return
  // A granted pre-vote from an earlier round at a lower term is not this round's.
  if (pre && m.granted && m.term !== s.term + 1) return
  s.votes.set(m.from, m.granted)
  const result = outcome(s)
  if (result === 'won') won(s, pre ? 'pre-vote' : 'election')
  else if (result === 'lost') s.becomeFollower(s.term, undefined)
}
