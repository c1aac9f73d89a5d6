import { describe, expect, it } from 'vitest'
import { abilities } from '../src/lib/roles'
import { maskAccount, maskId } from '../src/lib/mask'

const user = (role: string, office_level: string | null, office_code: string | null = '120101') =>
  ({ subject: 'u', role, office_level, office_code })

describe('what the screen offers', () => {
  it('gives a district clerk the counter and not the city approval', () => {
    const can = abilities(user('staff', 'district'))
    expect([can.enroll, can.accept, can.review, can.pay, can.approve]).toEqual([true, true, true, true, false])
  })

  it('gives a city reviewer the approval and not the counter', () => {
    const can = abilities(user('staff', 'city', '120000'))
    expect([can.enroll, can.review, can.approve]).toEqual([false, false, true])
  })

  it('gives district and city clerks the clearing tables to print and export, and a unit none', () => {
    expect(abilities(user('staff', 'district')).clearings).toBe(true)
    expect(abilities(user('staff', 'city', '120000')).clearings).toBe(true)
    expect(abilities(user('unit', null, null)).clearings).toBe(false)
  })

  it('lets a unit and a district clerk add an employee, and not the city or an insured person', () => {
    expect(abilities(user('unit', null, null)).enrollEmployee).toBe(true)
    expect(abilities(user('staff', 'district')).enrollEmployee).toBe(true)
    expect(abilities(user('staff', 'city', '120000')).enrollEmployee).toBe(false)
    expect(abilities(user('insured', null, null)).enrollEmployee).toBe(false)
  })

  it('shows facility applications to district and city staff only', () => {
    expect(abilities(user('staff', 'district')).facilityApplications).toBe(true)
    expect(abilities(user('staff', 'city', '120000')).facilityApplications).toBe(true)
    expect(abilities(user('unit', null, null)).facilityApplications).toBe(false)
    expect(abilities(user('insured', null, null)).facilityApplications).toBe(false)
  })

  it('offers nothing to an insured person or nobody', () => {
    expect(Object.values(abilities(user('insured', null, null))).some(Boolean)).toBe(false)
    expect(Object.values(abilities(null)).some(Boolean)).toBe(false)
  })
})

describe('masking', () => {
  it('masks an ID number as the platform does', () => {
    expect(maskId('120101199003071235')).toBe('1201**********1235')
    expect(maskId('E1234567')).toBe('E******7')
    expect(maskId('12')).toBe('**')
  })

  it('shows only the last four digits of an account', () => {
    expect(maskAccount('6222021234567890123')).toBe('****0123')
  })
})
