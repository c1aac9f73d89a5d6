// The signed-in user: the token lives in memory and in sessionStorage (gone with the tab), never in
// localStorage or a cookie. The role and office come from the gateway (/api/v1/auth/me), not the token text.
import { reactive } from 'vue'
import { get, request, useToken } from './api'
import { readArrival, type SignInConfig } from './oidc'

export interface Me {
  subject: string
  role: string
  office_code: string | null
  office_level: string | null
}

const KEY = 'yb-workbench-token'

export const session = reactive<{ token: string | null; me: Me | null; signInError: string }>({
  token: null,
  me: null,
  signInError: '',
})

/** Which sign-in the gateway offers: the development form, the identity provider, or both. */
export function signInConfig(): Promise<SignInConfig> {
  return get<SignInConfig>('/api/v1/auth/config')
}

/**
 * Back from the identity provider: the token in the address fragment is kept for the tab (restore()
 * adopts it), or the failure for the sign-in page. True when the fragment held either: the router then
 * navigates to the same page without it, so the token leaves the address and the history at once.
 */
export function acceptArrival(hash: string): boolean {
  const arrival = readArrival(hash)
  if (arrival === null) return false
  if ('token' in arrival) sessionStorage.setItem(KEY, arrival.token)
  else session.signInError = arrival.error
  return true
}

export async function signIn(username: string, password: string): Promise<Me> {
  const form = new URLSearchParams({ username, password })
  const tokens = await request<{ access_token: string }>('POST', '/api/v1/auth/token', undefined, form)
  return adopt(tokens.access_token)
}

async function adopt(token: string): Promise<Me> {
  useToken(token)
  const me = await get<Me>('/api/v1/auth/me')
  session.token = token
  session.me = me
  sessionStorage.setItem(KEY, token)
  return me
}

/** A reload of the tab keeps the user signed in while the token is valid. */
export async function restore(): Promise<Me | null> {
  const token = sessionStorage.getItem(KEY)
  if (!token) return null
  try {
    return await adopt(token)
  } catch {
    signOut()
    return null
  }
}

export function signOut(): void {
  sessionStorage.removeItem(KEY)
  useToken(null)
  session.token = null
  session.me = null
}
