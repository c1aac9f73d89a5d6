import { describe, expect, it } from 'vitest'
import { checklistFrom, isMaterialsProblem, useChecklist } from '../src/lib/materials'
import { ApiError, describeProblem } from '../src/lib/api'

// The answer svc-registration gives when papers are missing (422 materials_missing).
const problem = {
  status: 422, code: 'materials_missing', title: '申请材料不全，请一次性补正',
  errors: [
    { field: 'materials.id_document', message: '缺少：有效身份证件' },
    { field: 'materials.proxy_id_document', message: '缺少：代办人有效身份证件' },
  ],
  required_materials: [
    { code: 'id_document', name: '有效身份证件' },
    { code: 'proxy_id_document', name: '代办人有效身份证件' },
    { code: 'household_register', name: '户口本' },
  ],
}

describe('the materials checklist', () => {
  it('shows every paper the item needs and marks each missing one at once', () => {
    const list = checklistFrom(problem, { household_register: 'original' })
    expect(list.map((i) => [i.code, i.missing])).toEqual([
      ['id_document', true], ['proxy_id_document', true], ['household_register', false],
    ])
    expect(list[0].message).toBe('缺少：有效身份证件')
  })

  it('recognises the materials problem and no other', () => {
    expect(isMaterialsProblem(problem)).toBe(true)
    expect(isMaterialsProblem({ status: 422, code: 'validation_failed' })).toBe(false)
  })

  it('tells the clerk the title and every message of a problem', () => {
    expect(describeProblem(problem)).toBe('申请材料不全，请一次性补正；缺少：有效身份证件；缺少：代办人有效身份证件')
  })
})

describe("a form's checklist", () => {
  it('names every missing paper of a refusal at once, and clears them when the form goes through', () => {
    const papers = useChecklist()
    papers.mark('household_register', 'original')
    expect(papers.refusal(new ApiError(problem))).toBe('申请材料不全，请一次性补正：有效身份证件、代办人有效身份证件')
    expect(papers.checklist.value.filter((i) => i.missing).map((i) => i.code)).toEqual(['id_document', 'proxy_id_document'])
    papers.accepted()
    expect(papers.checklist.value.some((i) => i.missing)).toBe(false)
  })

  it('tells any other refusal as its message and keeps the checklist', () => {
    const papers = useChecklist()
    papers.mark('id_document', 'copy')
    papers.mark('id_document', undefined)
    expect(papers.received).toEqual({})
    expect(papers.refusal(new Error('网络错误'))).toBe('网络错误')
    expect(papers.checklist.value).toEqual([])
  })
})
