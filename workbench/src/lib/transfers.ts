// Transfer cases (转移接续): the names of their states, steps' clocks as a clerk reads them, and the
// steps the API lets staff of the case's office take.
import type { Action } from './actions'
import type { Me } from './session'

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

const REFUSAL_REASONS: Record<string, string> = {
  not_enrolled_here: '未在本地参保',
  coverage_not_ended: '转出地未中止参保',
  materials_incomplete: '材料不齐全',
  certificate_invalid: '参保凭证无效',
}

const TRANSFER_STEPS: Record<string, Action[]> = {
  submitted: [
    { action: 'accept', label: '受理', path: 'accept', fields: [] },
    {
      action: 'refuse', label: '不予受理', path: 'refuse', danger: true,
      fields: [
        { name: 'reason_code', label: '不予受理的原因', kind: 'choice', required: true, choices: REFUSAL_REASONS },
        { name: 'note', label: '说明', kind: 'text' },
      ],
    },
  ],
  accepted: [{ action: 'send_letter', label: '生成并发出联系函', path: 'send-letter', fields: [] }],
  letter_received: [
    {
      action: 'send_table', label: '发出信息表并划转资金', path: 'send-table',
      fields: [{ name: 'fund_reference', label: '资金划转凭证号（银行流水号）', kind: 'text', required: true }],
    },
  ],
  funds_held: [
    {
      action: 'confirm_funds', label: '核对转移资金', path: 'confirm-funds',
      fields: [
        { name: 'amount_received', label: '银行实际到账金额（元）', kind: 'money', required: true },
        { name: 'note', label: '核对说明', kind: 'text', required: true },
      ],
    },
  ],
  awaiting_completion: [{ action: 'complete', label: '办结', path: 'complete', fields: [] }],
}

const RESEND: Action = {
  action: 'resend', label: '重新发送报文', path: 'resend',
  fields: [{ name: 'note', label: '已核实并更正的情况', kind: 'text', required: true }],
}

/** The steps staff may take (the API shows a case only to staff serving its office, so whoever reads it
 * as staff may act; the person and their unit only follow it): while a message waits to be re-sent
 * nothing else moves, so re-sending is the only step then. */
export function transferActions(
  me: Me | null,
  found: { status: string; office_code: string; delivery_failure?: unknown },
): Action[] {
  if (me?.role !== 'staff') return []
  if (found.delivery_failure) return [RESEND]
  return TRANSFER_STEPS[found.status] ?? []
}
