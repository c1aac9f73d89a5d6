// Benefit registrations (待遇登记) a clerk files for a person at the counter: 门特 (outpatient special
// disease), the maternity pregnancy registration and the cross-province remote-care filing. Each kind
// has its endpoint and body; the service checks everything again (the screen only asks the right fields).

export type BenefitKind = 'special-disease' | 'pregnancy' | 'remote-care'

export const KIND_TITLES: Record<BenefitKind, string> = {
  'special-disease': '门诊特定疾病（门特）待遇登记',
  pregnancy: '生育保险妊娠登记',
  'remote-care': '跨省异地就医备案',
}

export const SPECIAL_DISEASES: Record<string, string> = {
  dialysis: '肾透析治疗',
  kidney_transplant_anti_rejection: '肾移植术抗排异治疗',
  cancer_radio_chemotherapy: '癌症放化疗',
  liver_transplant_anti_rejection: '肝移植术后抗排异',
  haemophilia: '血友病',
  diabetes: '糖尿病',
  pulmonary_heart_disease: '肺心病',
  lupus: '红斑狼疮',
  hemiplegia: '偏瘫',
  psychosis: '精神病',
  epilepsy: '癫痫',
  aplastic_anaemia: '再生障碍性贫血',
  chronic_thrombocytopenic_purpura: '慢性血小板减少性紫癜',
}

export interface BenefitForm {
  disease: string
  certified_by: string
  treatment_facility: string
  certified_outside_city: boolean
  pregnancy_started_on: string
  last_menstrual_period: string
  facility_code: string
  remote_kind: 'long_term' | 'temporary'
  category: string
  reason: string
  destination: string
  commitment: boolean
}

export const emptyForm = (): BenefitForm => ({
  disease: '', certified_by: '', treatment_facility: '', certified_outside_city: false,
  pregnancy_started_on: '', last_menstrual_period: '', facility_code: '',
  remote_kind: 'long_term', category: '', reason: '', destination: '', commitment: false,
})

const orNull = (value: string): string | null => (value.trim() ? value.trim() : null)

/** The endpoint and the JSON body of one registration for the person. */
export function registrationRequest(kind: BenefitKind, personId: string, form: BenefitForm): { path: string; body: Record<string, unknown> } {
  const path = `/api/v1/registration/benefit-registrations/${kind}`
  if (kind === 'special-disease') {
    return { path, body: { person_id: personId, disease: form.disease, certified_by: form.certified_by.trim(),
      treatment_facility: form.treatment_facility.trim(), certified_outside_city: form.certified_outside_city } }
  }
  if (kind === 'pregnancy') {
    return { path, body: { person_id: personId, pregnancy_started_on: orNull(form.pregnancy_started_on),
      last_menstrual_period: orNull(form.last_menstrual_period), facility_code: orNull(form.facility_code) } }
  }
  const longTerm = form.remote_kind === 'long_term'
  return { path, body: { person_id: personId, kind: form.remote_kind, destination: form.destination.trim(),
    commitment: form.commitment, category: longTerm ? orNull(form.category) : null, reason: longTerm ? null : orNull(form.reason) } }
}
