import { describe, expect, it } from 'vitest'
import { actionBody, missingFields, splitList } from '../src/lib/actions'
import { applicationActions, clockText, statusName, stepTime, type Clock } from '../src/lib/facility'
import type { Me } from '../src/lib/session'

const heping: Me = { subject: 'clerk-hp', role: 'staff', office_code: '120101', office_level: 'district' }
const hexi: Me = { subject: 'clerk-hx', role: 'staff', office_code: '120103', office_level: 'district' }
const city: Me = { subject: 'reviewer', role: 'staff', office_code: '120000', office_level: 'city' }
const facility: Me = { subject: 'fac-1', role: 'facility', office_code: null, office_level: null }
const app = (status: string) => ({ status, office_code: '120101' })
const names = (me: Me | null, status: string) => applicationActions(me, app(status)).map((a) => a.action)

const clock = (over: Partial<Clock>): Clock => ({
  received_on: '2026-05-06', due_date: '2026-06-03', working_days_used: 3, working_days_left: 17, paused: false,
  overdue: false, item_due_date: '2026-08-06', item_overdue: false, provisional: false, ...over,
})

describe('facility application steps', () => {
  it('offers a received application to be accepted, sent back for supplement or refused by its own district', () => {
    expect(names(heping, 'received')).toEqual(['accept', 'request_supplement', 'refuse'])
  })

  it('walks the later states through review, public notice and the agreement', () => {
    expect(names(heping, 'accepted')).toEqual(['start_review'])
    expect(names(heping, 'expert_review')).toEqual(['record_review', 'open_public_notice'])
    expect(names(heping, 'public_notice')).toEqual(['close_public_notice'])
    expect(names(heping, 'agreement_pending')).toEqual(['sign_agreement'])
  })

  it('offers nothing on a concluded application', () => {
    for (const status of ['designated', 'refused', 'withdrawn', 'terminated']) expect(names(heping, status)).toEqual([])
  })

  it('offers nothing to another district, the city, the applicant or nobody signed in', () => {
    for (const me of [hexi, city, facility, null]) expect(names(me, 'received')).toEqual([])
  })

  it('reads the reply clock as days left, overdue or paused, with the calendar caveat', () => {
    expect(clockText(clock({}))).toBe('答复时限 2026-06-03，剩余 17 个工作日')
    expect(clockText(clock({ overdue: true, working_days_left: 0 }))).toBe('已超期（答复时限 2026-06-03）')
    expect(clockText(clock({ paused: true, pause_kind: 'supplement' }))).toBe('补正材料期间暂停计时（已用 3 个工作日）')
    expect(clockText(clock({ paused: true, pause_kind: 'expert_review' }))).toBe('专家评审期间暂停计时（已用 3 个工作日）')
    expect(clockText(clock({ provisional: true }))).toContain('节假日安排未公布')
    expect(statusName('public_notice')).toBe('公示中')
  })

  it('shows a step moment in Beijing time, across midnight UTC too', () => {
    expect(stepTime('2026-12-06T05:32:16.871044Z')).toBe('2026-12-06 13:32')
    expect(stepTime('2026-12-06T17:05:00+00:00')).toBe('2026-12-07 01:05')
  })
})

describe('step bodies', () => {
  const [review] = applicationActions(heping, app('expert_review'))
  const agreement = applicationActions(heping, app('agreement_pending'))[0]

  it('splits a typed list on lines and Chinese or Latin separators, dropping blanks', () => {
    expect(splitList('营业执照\n 执业许可证、\n\n房屋产权证明，消防验收; ')).toEqual(['营业执照', '执业许可证', '房屋产权证明', '消防验收'])
  })

  it('sends the version, the lists split, a yes/no as a boolean and leaves empty optional fields out', () => {
    expect(actionBody(review, { reviewers: '张三、李四', conclusion: ' 符合条件 ', passed: true }, 4)).toEqual({
      version: 4, reviewers: ['张三', '李四'], conclusion: '符合条件', passed: true,
    })
    const [accept] = applicationActions(heping, app('received'))
    expect(actionBody(accept, { reason: '  ' }, 2)).toEqual({ version: 2 })
    expect(actionBody(review, { reviewers: '张三', conclusion: '不符合' }, 5).passed).toBe(false)
  })

  it('names every required field left empty at once', () => {
    expect(missingFields(agreement, { number: 'TJ-1', parties: ' 、 ' })).toEqual(['协议起始日', '协议终止日', '协议双方（每行一方）'])
    expect(missingFields(review, { reviewers: '张三', conclusion: '通过' })).toEqual([])
  })
})
