// Facility applications (定点申请): the names of their states, the working-day clock as a clerk reads
// it, and the steps the API lets staff of the application's own district office take in each state.
import type { Action } from './actions'
import type { Me } from './session'

export interface Clock {
  received_on: string
  due_date: string
  working_days_used: number
  working_days_left: number
  paused: boolean
  pause_kind?: string | null
  overdue: boolean
  item_due_date: string
  item_overdue: boolean
  provisional: boolean
}

export const STATUS_NAMES: Record<string, string> = {
  received: '已接收',
  supplement_requested: '待补正',
  accepted: '已受理',
  refused: '不予定点',
  expert_review: '专家评审',
  public_notice: '公示中',
  agreement_pending: '待签协议',
  designated: '已定点',
  suspended: '已中止',
  terminated: '已解除',
  withdrawn: '已撤回',
}

export const statusName = (status: string): string => STATUS_NAMES[status] ?? status

// The periods the law leaves out of the reply clock.
const PAUSE_NAMES: Record<string, string> = { supplement: '补正材料', expert_review: '专家评审', public_notice: '公示' }

/** A step's moment as the office reads it: Beijing time to the minute. */
export function stepTime(at: string): string {
  const moment = new Date(at)
  if (Number.isNaN(moment.getTime())) return at
  const beijing = new Date(moment.getTime() + 8 * 3600_000).toISOString()
  return `${beijing.slice(0, 10)} ${beijing.slice(11, 16)}`
}

/** The 20-working-day reply clock in words: paused, overdue or days left, with the calendar's caveat. */
export function clockText(clock: Clock): string {
  const caveat = clock.provisional ? '（节假日安排未公布，按周末推算）' : ''
  if (clock.paused) return `${PAUSE_NAMES[clock.pause_kind ?? ''] ?? '暂停'}期间暂停计时（已用 ${clock.working_days_used} 个工作日）`
  if (clock.overdue) return `已超期（答复时限 ${clock.due_date}）${caveat}`
  return `答复时限 ${clock.due_date}，剩余 ${clock.working_days_left} 个工作日${caveat}`
}

const SUPPLEMENT: Action = {
  action: 'request_supplement', label: '一次性告知补正', path: 'request-supplement',
  fields: [{ name: 'missing', label: '需补正的材料（每行一项）', kind: 'list', required: true }],
}
const ACCEPT: Action = {
  action: 'accept', label: '受理', path: 'accept',
  fields: [{ name: 'reason', label: '受理意见', kind: 'text' }],
}
const REFUSE: Action = {
  action: 'refuse', label: '不予受理', path: 'refuse', danger: true,
  fields: [{ name: 'reasons', label: '不予受理的理由（每行一项）', kind: 'list', required: true }],
}
const START_REVIEW: Action = {
  action: 'start_review', label: '组织专家评估', path: 'start-review',
  fields: [{ name: 'reviewers', label: '评估专家（每行一人）', kind: 'list' }],
}
const REVIEW: Action = {
  action: 'record_review', label: '记录评估结论', path: 'review',
  fields: [
    { name: 'reviewers', label: '评估专家（每行一人）', kind: 'list', required: true },
    { name: 'conclusion', label: '评估结论', kind: 'text', required: true },
    { name: 'passed', label: '评估通过', kind: 'bool' },
  ],
}
const NOTICE: Action = {
  action: 'open_public_notice', label: '开始公示', path: 'public-notice',
  fields: [
    { name: 'starts_on', label: '公示开始日', kind: 'date', required: true },
    { name: 'ends_on', label: '公示结束日', kind: 'date', required: true },
  ],
}
const CLOSE_NOTICE: Action = {
  action: 'close_public_notice', label: '公示结束', path: 'public-notice/close',
  fields: [
    { name: 'objections', label: '收到的异议（每行一条，无则留空）', kind: 'list' },
    { name: 'upheld', label: '异议成立', kind: 'bool' },
  ],
}
const AGREEMENT: Action = {
  action: 'sign_agreement', label: '签订服务协议，纳入定点', path: 'agreement',
  fields: [
    { name: 'number', label: '协议编号', kind: 'text', required: true },
    { name: 'valid_from', label: '协议起始日', kind: 'date', required: true },
    { name: 'valid_to', label: '协议终止日', kind: 'date', required: true },
    { name: 'parties', label: '协议双方（每行一方）', kind: 'list', required: true },
  ],
}

/** Each state's staff steps, as the facility service's flow allows them. */
const STAFF_STEPS: Record<string, Action[]> = {
  received: [ACCEPT, SUPPLEMENT, REFUSE],
  supplement_requested: [REFUSE],
  accepted: [START_REVIEW],
  expert_review: [REVIEW, NOTICE],
  public_notice: [CLOSE_NOTICE],
  agreement_pending: [AGREEMENT],
}

/** Only staff of the application's own district office decide it (the city oversees, reads only). */
export function applicationActions(me: Me | null, app: { status: string; office_code: string }): Action[] {
  if (me?.role !== 'staff' || me.office_level !== 'district' || me.office_code !== app.office_code) return []
  return STAFF_STEPS[app.status] ?? []
}
