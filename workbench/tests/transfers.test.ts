import { describe, expect, it } from 'vitest'
import { byUrgency, clockText, statusName, type Step } from '../src/lib/transfers'

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
