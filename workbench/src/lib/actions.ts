// A step a clerk may take on a case: the form it asks for and the body the API expects. The API
// decides (it refuses a wrong state, role, office or version); the screen offers only what it would take.

export type FieldKind = 'text' | 'list' | 'date' | 'bool' | 'money' | 'choice'

export interface Field {
  name: string
  label: string
  kind: FieldKind
  required?: boolean
  choices?: Record<string, string>
}

export interface Action {
  action: string
  label: string
  path: string // after the case's own path, e.g. 'accept' or 'public-notice/close'
  fields: Field[]
  danger?: boolean
}

/** A list typed in one box: one item per line, or separated by 、，, or ; — blanks dropped. */
export function splitList(text: string): string[] {
  return text
    .split(/[\n、，,;；]/)
    .map((item) => item.trim())
    .filter((item) => item !== '')
}

/** The JSON body of a step: the case's version (so two clerks never both apply a step) and each field;
 * an empty optional field is left out, a list is split, a yes/no is a boolean. */
export function actionBody(action: Action, values: Record<string, string | boolean>, version: number): Record<string, unknown> {
  const body: Record<string, unknown> = { version }
  for (const field of action.fields) {
    const value = values[field.name]
    if (field.kind === 'bool') {
      body[field.name] = value === true
      continue
    }
    const text = typeof value === 'string' ? value.trim() : ''
    if (text === '') continue
    body[field.name] = field.kind === 'list' ? splitList(text) : text
  }
  return body
}

/** The required fields left empty, by label, all at once. */
export function missingFields(action: Action, values: Record<string, string | boolean>): string[] {
  return action.fields
    .filter((field) => field.required && field.kind !== 'bool')
    .filter((field) => {
      const value = values[field.name]
      const text = typeof value === 'string' ? value : ''
      return field.kind === 'list' ? splitList(text).length === 0 : text.trim() === ''
    })
    .map((field) => field.label)
}
