// Every call goes to the gateway's public REST API with the signed-in user's bearer token.
// A refusal arrives as application/problem+json; it is thrown as an ApiError carrying the problem.

export interface ProblemError {
  field?: string
  message: string
}

export interface Problem {
  status: number
  code?: string
  title?: string
  detail?: string
  errors?: ProblemError[]
  [extra: string]: unknown
}

export class ApiError extends Error {
  constructor(public readonly problem: Problem) {
    super(describeProblem(problem))
  }
}

/** The Chinese text a clerk reads: the title, the detail and each field's message. */
export function describeProblem(problem: Problem): string {
  const parts = [problem.title ?? `请求失败（${problem.status}）`]
  if (problem.detail) parts.push(problem.detail)
  for (const error of problem.errors ?? []) parts.push(error.message)
  return parts.join('；')
}

let bearer: string | null = null

export function useToken(token: string | null): void {
  bearer = token
}

async function problemOf(response: Response): Promise<Problem> {
  try {
    const body = await response.json()
    return { status: response.status, ...body }
  } catch {
    return { status: response.status }
  }
}

export async function request<T>(method: string, path: string, body?: unknown, form?: URLSearchParams): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (bearer) headers.Authorization = `Bearer ${bearer}`
  let payload: BodyInit | undefined
  if (form) {
    payload = form
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json'
    payload = JSON.stringify(body)
  }
  const response = await fetch(path, { method, headers, body: payload })
  if (!response.ok) throw new ApiError(await problemOf(response))
  return (response.status === 204 ? undefined : await response.json()) as T
}

export const get = <T>(path: string) => request<T>('GET', path)
export const post = <T>(path: string, body: unknown = {}) => request<T>('POST', path, body)

/** A PDF the API serves behind the token: fetched, then opened as a local object URL for printing. */
export async function fetchDocument(path: string): Promise<Blob> {
  const response = await fetch(path, { headers: bearer ? { Authorization: `Bearer ${bearer}` } : {} })
  if (!response.ok) throw new ApiError(await problemOf(response))
  return response.blob()
}

/** A file behind the token, with the name the API gives it (Content-Disposition). */
export async function fetchFile(path: string): Promise<{ blob: Blob; disposition: string | null }> {
  const response = await fetch(path, { headers: bearer ? { Authorization: `Bearer ${bearer}` } : {} })
  if (!response.ok) throw new ApiError(await problemOf(response))
  return { blob: await response.blob(), disposition: response.headers.get('Content-Disposition') }
}
