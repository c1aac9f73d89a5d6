import { describe, expect, it } from 'vitest'
import { actionBody } from '../src/lib/actions'
import type { Me } from '../src/lib/session'
import { byUrgency, clockText, statusName, transferActions, type Step } from '../src/lib/transfers'

const step = (over: Partial<Step>): Step => ({
  step: 's', title: '受理', started_on: '2026-05-06', due_on: '2026-05-13', done_on: null,
  overdue: false, provisional: false, ...over,
})

describe('transfer clocks', () => {
  it('says a done step late when it was done after its limit', () => {
    expect(clockText(step({ done_on: '2026-05-12' }))).toBe('2026-05-12 办结')
    expect(clockText(step({ done_on: '2026-05-14' }))).toBe('2026-05-14 办结（超期）')
  })

  it('says an open step overdue, and a provisional limit with its caveat', () => {
    expect(clockText(step({ overdue: true }))).toBe('已超期（时限 2026-05-13）')
    expect(clockText(step({ provisional: true }))).toBe('时限 2026-05-13（节假日安排未公布，按周末推算）')
  })

  it('puts overdue steps first, then the earliest limit, and done steps last', () => {
    const steps = [
      step({ step: 'done', done_on: '2026-05-07', due_on: '2026-05-01' }),
      step({ step: 'later', due_on: '2026-06-01' }),
      step({ step: 'late', overdue: true, due_on: '2026-05-20' }),
      step({ step: 'sooner', due_on: '2026-05-15' }),
    ]
    expect(byUrgency(steps).map((s) => s.step)).toEqual(['late', 'sooner', 'later', 'done'])
  })

  it('names the states in Chinese, and an unknown one as it is', () => {
    expect(statusName('letter_sent')).toBe('已发联系函')
    expect(statusName('something_new')).toBe('something_new')
  })
})

describe('transfer step actions', () => {
  const clerk: Me = { subject: 'clerk-hp', role: 'staff', office_code: '120101', office_level: 'district' }
  const city: Me = { subject: 'reviewer', role: 'staff', office_code: '120000', office_level: 'city' }
  const unit: Me = { subject: 'u', role: 'unit', office_code: null, office_level: null }
  const person: Me = { subject: 'p', role: 'insured', office_code: null, office_level: null }
  const names = (me: Me | null, status: string, delivery_failure: unknown = null) =>
    transferActions(me, { status, office_code: '120101', delivery_failure }).map((a) => a.action)

  it('offers each state its next step to the case office staff', () => {
    expect(names(clerk, 'submitted')).toEqual(['accept', 'refuse'])
    expect(names(clerk, 'accepted')).toEqual(['send_letter'])
    expect(names(clerk, 'letter_received')).toEqual(['send_table'])
    expect(names(clerk, 'funds_held')).toEqual(['confirm_funds'])
    expect(names(clerk, 'awaiting_completion')).toEqual(['complete'])
    expect(names(clerk, 'letter_sent')).toEqual([])
    expect(names(clerk, 'completed')).toEqual([])
  })

  it('offers only the re-send while a message waits to get through', () => {
    expect(names(clerk, 'letter_sent', { type: 'contact_letter' })).toEqual(['resend'])
  })

  it('offers the steps to city staff serving the office too, and nothing to the person, their unit or nobody', () => {
    expect(names(city, 'awaiting_completion')).toEqual(['complete'])
    for (const me of [person, unit, null]) expect(names(me, 'submitted')).toEqual([])
  })

  it('refuses with one of the API reason codes, which the body carries', () => {
    const refuse = transferActions(clerk, { status: 'submitted', office_code: '120101' })[1]
    expect(Object.keys(refuse.fields[0].choices ?? {})).toEqual([
      'not_enrolled_here', 'coverage_not_ended', 'materials_incomplete', 'certificate_invalid',
    ])
    expect(actionBody(refuse, { reason_code: 'materials_incomplete', note: '' }, 3)).toEqual({
      version: 3, reason_code: 'materials_incomplete',
    })
  })
})
