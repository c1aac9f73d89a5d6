import { describe, expect, it } from 'vitest'
import { byDueDate, claimItems, facilityItems, filterItems, transferItems } from '../src/lib/worklist'

const claim = (id: string, status: string, due: string | null) => ({
  id, status, expected_payment_by: due, office_code: '120101', care_type: 'inpatient', facility_code: 'H1', claimed: '100.00',
})

describe('the worklist', () => {
  it('keeps claims still to handle and leaves paid and rejected ones out', () => {
    const items = claimItems([claim('a', 'accepted', '2026-12-10'), claim('b', 'paid', '2026-12-01'), claim('c', 'rejected', null)], '2026-12-06')
    expect(items.map((i) => i.id)).toEqual(['a'])
    expect(items[0].status).toBe('待审核')
  })

  it('flags a claim past its working-day deadline as overdue, not one due today', () => {
    const [late, today] = claimItems([claim('a', 'accepted', '2026-12-05'), claim('b', 'reviewed', '2026-12-06')], '2026-12-06')
    expect(late.overdue).toBe(true)
    expect(today.overdue).toBe(false)
  })

  it('sorts every kind by its due date, earliest first, undated items last', () => {
    const items = byDueDate([
      ...claimItems([claim('late', 'accepted', '2027-01-20'), claim('undated', 'filed', null)], '2026-12-06'),
      ...facilityItems([{ application: { id: 'f', name: '药房', status: 'received', office_code: '120101' }, clock: { due_date: '2026-12-20', overdue: false } }]),
      ...transferItems([{ id: 't', side: 'incoming', status: 'open', peer_office: '130200', office_code: '120101', step: { title: '转入审核', due_on: '2026-12-08', overdue: false } }]),
    ])
    expect(items.map((i) => i.id)).toEqual(['t', 'f', 'late', 'undated'])
    const transfer = items.find((i) => i.id === 't')
    expect(transfer?.title).toContain('转入')
    expect(transfer?.link).toBe('/transfers/t')
  })

  it('takes the overdue flag of a facility application from the service', () => {
    const [item] = facilityItems([{ application: { id: 'f', name: 'x', status: 'accepted' }, clock: { due_date: '2027-01-01', overdue: true } }])
    expect(item.link).toBe('/facility/f')
    expect(item.overdue).toBe(true)
  })

  it('filters by kind, overdue only and text', () => {
    const items = [
      ...claimItems([claim('a', 'accepted', '2026-12-01'), claim('b', 'accepted', '2026-12-30')], '2026-12-06'),
      ...facilityItems([{ application: { id: 'f', name: '示例大药房', status: 'received' }, clock: { due_date: '2026-12-20', overdue: false } }]),
    ]
    expect(filterItems(items, { kinds: ['claim'], overdueOnly: false, text: '' }).map((i) => i.id)).toEqual(['a', 'b'])
    expect(filterItems(items, { kinds: [], overdueOnly: true, text: '' }).map((i) => i.id)).toEqual(['a'])
    expect(filterItems(items, { kinds: [], overdueOnly: false, text: '大药房' }).map((i) => i.id)).toEqual(['f'])
  })
})
