// Transfer cases (转移接续): the names of their states and steps' clocks as a clerk reads them.

export interface Step {
  step: string
  title: string
  started_on: string
  due_on: string
  done_on: string | null
  overdue: boolean
  provisional: boolean
}

export const STATUS_NAMES: Record<string, string> = {
  submitted: '已申请',
  refused: '不予受理',
  accepted: '已受理',
  letter_sent: '已发联系函',
  awaiting_completion: '待办结',
  funds_held: '资金待核对',
  completed: '已办结',
  rejected_by_peer: '对方拒收',
  letter_received: '已收到联系函',
  transferred_out: '已转出',
  rejected: '已拒绝',
}

export const statusName = (status: string): string => STATUS_NAMES[status] ?? status

/** One clock in words: done (and whether late), overdue, or due, with the calendar's caveat. */
export function clockText(step: Step): string {
  const caveat = step.provisional ? '（节假日安排未公布，按周末推算）' : ''
  if (step.done_on) return step.done_on > step.due_on ? `${step.done_on} 办结（超期）` : `${step.done_on} 办结`
  if (step.overdue) return `已超期（时限 ${step.due_on}）${caveat}`
  return `时限 ${step.due_on}${caveat}`
}

/** The open step most urgent first: overdue, then the earliest due date; done steps last. */
export function byUrgency(steps: Step[]): Step[] {
  const rank = (s: Step) => (s.done_on ? 2 : s.overdue ? 0 : 1)
  return [...steps].sort((a, b) => rank(a) - rank(b) || a.due_on.localeCompare(b.due_on))
}
