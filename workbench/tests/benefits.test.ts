import { describe, expect, it } from 'vitest'
import { emptyForm, registrationRequest } from '../src/lib/benefits'

const PERSON = '0b7e8f1e-1111-8222-9333-444455556666'

describe('benefit registrations at the counter', () => {
  it('files a 门特 registration for the person with the disease and both facilities', () => {
    const form = { ...emptyForm(), disease: 'dialysis', certified_by: ' H12010100002 ', treatment_facility: 'H12010100001' }
    expect(registrationRequest('special-disease', PERSON, form)).toEqual({
      path: '/api/v1/registration/benefit-registrations/special-disease',
      body: { person_id: PERSON, disease: 'dialysis', certified_by: 'H12010100002', treatment_facility: 'H12010100001', certified_outside_city: false },
    })
  })

  it('sends a pregnancy registration\'s empty dates as absent, not as empty text', () => {
    const form = { ...emptyForm(), last_menstrual_period: '2026-09-01' }
    expect(registrationRequest('pregnancy', PERSON, form).body).toEqual({
      person_id: PERSON, pregnancy_started_on: null, last_menstrual_period: '2026-09-01', facility_code: null,
    })
  })

  it('sends a long-term filing its category and a temporary one its reason, never both', () => {
    const form = { ...emptyForm(), destination: '110105', commitment: true, category: 'resettled_retiree', reason: 'referral' }
    expect(registrationRequest('remote-care', PERSON, form).body).toMatchObject({ kind: 'long_term', category: 'resettled_retiree', reason: null })
    const temporary = registrationRequest('remote-care', PERSON, { ...form, remote_kind: 'temporary' }).body
    expect(temporary).toMatchObject({ kind: 'temporary', category: null, reason: 'referral', destination: '110105' })
  })
})
