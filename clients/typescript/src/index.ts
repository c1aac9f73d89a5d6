/**
 * A typed client for the platform's public API, for app developers (mini-programs, city apps).
 *
 * `schema.d.ts` is generated from the merged OpenAPI document (`openapi.json`, the same document the
 * gateway serves at /openapi.json) by openapi-typescript; requests go through openapi-fetch, so
 * paths, parameters, bodies and answers are all checked by the compiler.
 */
import createClient, { type Client } from 'openapi-fetch'
import type { components, operations, paths } from './schema'

export type { components, operations, paths }
export type Schemas = components['schemas']
/** Every error: RFC 9457 problem+json with a stable `code` and a Chinese `title`. */
export type Problem = Schemas['Problem']
/** The one list shape: `{items, total, page, size}`. */
export interface Page<Item> {
  items: Item[]
  total: number
  page: number
  size: number
}

export type YibaoClient = Client<paths>

/**
 * A client for the gateway at `baseUrl`. `token` is asked for before each request, so a refreshed
 * token is used as soon as the app has it; without one, only the public operations answer.
 */
export function createYibaoClient(
  baseUrl: string,
  token: () => string | undefined = () => undefined,
  fetchImpl?: typeof fetch,
): YibaoClient {
  const client = createClient<paths>({ baseUrl, ...(fetchImpl ? { fetch: fetchImpl } : {}) })
  client.use({
    onRequest({ request }) {
      const current = token()
      if (current) request.headers.set('Authorization', `Bearer ${current}`)
      return request
    },
  })
  return client
}

/** The problem an error answer carries, or a stand-in when the body was not one (a proxy's page). */
export function problemOf(error: unknown, status: number): Problem {
  if (error && typeof error === 'object' && 'code' in error && 'title' in error) return error as Problem
  return { type: 'about:blank', status, code: 'unexpected', title: '服务暂不可用' }
}
