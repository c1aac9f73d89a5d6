// The materials checklist (一次性告知): the API names every paper an item needs when any is missing
// (422 materials_missing with required_materials and one error per missing paper). The checklist is
// built from that answer, so the screen never keeps its own copy of the catalogue.
import { reactive, ref } from 'vue'
import { ApiError, type Problem } from './api'

export interface ChecklistItem {
  code: string
  name: string
  missing: boolean
  message?: string
}

export function checklistFrom(problem: Problem, received: Record<string, string>): ChecklistItem[] {
  const required = (problem.required_materials as { code: string; name: string }[] | undefined) ?? []
  const messages = new Map<string, string>()
  for (const error of problem.errors ?? []) {
    const code = error.field?.startsWith('materials.') ? error.field.slice('materials.'.length) : undefined
    if (code) messages.set(code, error.message)
  }
  return required.map(({ code, name }) => ({
    code,
    name,
    missing: messages.has(code) || !(code in received),
    message: messages.get(code) ?? (code in received ? undefined : `缺少：${name}`),
  }))
}

export const isMaterialsProblem = (problem: Problem): boolean =>
  problem.code === 'materials_missing' && Array.isArray(problem.required_materials)

export const FORMS: Record<string, string> = { original: '原件', copy: '复印件', commitment: '承诺书' }

/** A form's papers: what the counter received (code → form) and the checklist the API named, cleared
 *  when the form went through and filled from a materials_missing refusal. */
export function useChecklist() {
  const received = reactive<Record<string, string>>({})
  const checklist = ref<ChecklistItem[]>([])

  function mark(code: string, value: string | undefined) {
    if (value) received[code] = value
    else delete received[code]
  }

  function accepted() {
    checklist.value = checklist.value.map((item) => ({ ...item, missing: false, message: undefined }))
  }

  /** What to tell the clerk of a refused form: every missing paper at once when the API listed them. */
  function refusal(e: unknown): string {
    if (e instanceof ApiError && isMaterialsProblem(e.problem)) {
      checklist.value = checklistFrom(e.problem, received)
      return `${e.problem.title}：${checklist.value.filter((i) => i.missing).map((i) => i.name).join('、')}`
    }
    return (e as Error).message
  }

  return { received, checklist, mark, accepted, refusal }
}
