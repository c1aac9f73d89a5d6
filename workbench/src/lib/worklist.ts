// The worklist: everything due at the user's office, from the list endpoints of each service, on one
// scale: the working-day due date each service computes (the platform calendar), earliest first.

export type WorkKind = 'claim' | 'payment' | 'facility' | 'transfer' | 'clearing'

export interface WorkItem {
  kind: WorkKind
  id: string
  title: string
  status: string
  office: string | null
  due: string | null // ISO date, the working-day deadline the service computed
  overdue: boolean
  link: string | null // where the workbench handles it
}

export const KIND_NAMES: Record<WorkKind, string> = {
  claim: '手工报销',
  payment: '待遇支付',
  facility: '定点申请',
  transfer: '转移接续',
  clearing: '结算清算',
}

export const CLAIM_STEPS: Record<string, string> = {
  filed: '待受理',
  accepted: '待审核',
  reviewed: '待市级核准',
  approved: '待支付',
  returned: '已退回补正',
}

/** Claims still to accept, review, approve or pay; the deadline is the 30th working day from acceptance. */
export function claimItems(claims: Record<string, any>[], today: string): WorkItem[] {
  return claims
    .filter((c) => c.status in CLAIM_STEPS)
    .map((c) => ({
      kind: 'claim' as const,
      id: String(c.id),
      title: `${careName(c.care_type)} ${c.facility_code} 申报 ${c.claimed} 元`,
      status: CLAIM_STEPS[c.status] ?? c.status,
      office: c.office_code ?? null,
      due: c.expected_payment_by ?? null,
      overdue: isOverdue(c.expected_payment_by, today),
      link: `/claims/${c.id}`,
    }))
}

export function paymentItems(payments: Record<string, any>[], today: string): WorkItem[] {
  return payments
    .filter((p) => !['paid', 'rejected'].includes(p.status))
    .map((p) => ({
      kind: 'payment' as const,
      id: String(p.id),
      title: `待遇支付（${p.kind}）`,
      status: p.status,
      office: p.office_code ?? null,
      due: p.expected_payment_by ?? null,
      overdue: isOverdue(p.expected_payment_by, today),
      link: null,
    }))
}

export function facilityItems(views: Record<string, any>[]): WorkItem[] {
  return views
    .filter((v) => !['designated', 'refused', 'withdrawn', 'suspended', 'terminated'].includes(v.application?.status))
    .map((v) => ({
      kind: 'facility' as const,
      id: String(v.application.id),
      title: `定点申请：${v.application.name}`,
      status: v.application.status,
      office: v.application.office_code ?? null,
      due: v.clock?.due_date ?? null,
      overdue: Boolean(v.clock?.overdue),
      link: `/facility/${encodeURIComponent(String(v.application.id))}`,
    }))
}

export function transferItems(cases: Record<string, any>[]): WorkItem[] {
  return cases
    .filter((c) => c.step)
    .map((c) => ({
      kind: 'transfer' as const,
      id: String(c.id),
      title: `转移接续（${c.side === 'incoming' ? '转入' : '转出'}，对方 ${c.peer_office}）：${c.step.title}`,
      status: c.status,
      office: c.office_code ?? null,
      due: c.step.due_on ?? null,
      overdue: Boolean(c.step.overdue),
      link: `/transfers/${encodeURIComponent(String(c.id))}`,
    }))
}

export function clearingItems(rows: Record<string, any>[], today: string): WorkItem[] {
  return rows
    .filter((r) => r.status !== 'paid')
    .map((r) => ({
      kind: 'clearing' as const,
      id: String(r.id),
      title: `清算表 ${r.facility_code} ${r.period}`,
      status: r.status_name ?? r.status,
      office: r.office_code ?? null,
      due: r.deadline?.due_on ?? null,
      overdue: Boolean(r.deadline?.overdue) || isOverdue(r.deadline?.due_on, today),
      link: null,
    }))
}

export function isOverdue(due: string | null | undefined, today: string): boolean {
  return Boolean(due) && (due as string) < today
}

/** Earliest deadline first; items without a deadline (not yet accepted) after them, in list order. */
export function byDueDate(items: WorkItem[]): WorkItem[] {
  return [...items].sort((a, b) => (a.due ?? '9999-12-31').localeCompare(b.due ?? '9999-12-31'))
}

export interface WorkFilter {
  kinds: WorkKind[]
  overdueOnly: boolean
  text: string
}

export function filterItems(items: WorkItem[], filter: WorkFilter): WorkItem[] {
  const text = filter.text.trim()
  return items.filter(
    (item) =>
      (filter.kinds.length === 0 || filter.kinds.includes(item.kind)) &&
      (!filter.overdueOnly || item.overdue) &&
      (!text || item.title.includes(text) || item.status.includes(text) || item.id.startsWith(text)),
  )
}

export const CARE_TYPES: Record<string, string> = {
  inpatient: '住院',
  outpatient_large: '门（急）诊大额',
  special_disease: '门诊特殊病',
  observation_inpatient: '急诊留观转住院',
}

export const careName = (code: string): string => CARE_TYPES[code] ?? code
