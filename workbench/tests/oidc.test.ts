import { describe, expect, it } from 'vitest'
import { loginAddress, readArrival } from '../src/lib/oidc'

describe('sign-in through the identity provider', () => {
  it('takes the access token the gateway left in the fragment', () => {
    expect(readArrival('#access_token=eyJ.a.b&token_type=Bearer')).toEqual({ token: 'eyJ.a.b' })
  })

  it('tells a failed sign-in in Chinese, and an unknown failure too', () => {
    expect(readArrival('#signin_error=state_mismatch')).toEqual({ error: '登录请求已失效或不是本页发起的，请重新登录' })
    expect(readArrival('#signin_error=whatever')).toEqual({ error: '登录失败，请重新登录' })
  })

  it('finds nothing in an ordinary address', () => {
    expect(readArrival('')).toBeNull()
    expect(readArrival('#section-2')).toBeNull()
  })

  it('returns to the page asked for inside the workbench, never elsewhere', () => {
    const config = { development_sign_in: false, oidc_login: '/api/v1/auth/oidc/login' }
    expect(loginAddress(config, '/claims/42')).toBe('/api/v1/auth/oidc/login?return_to=%2Fworkbench%2Fclaims%2F42')
    expect(loginAddress(config, '//evil.example')).toBe('/api/v1/auth/oidc/login?return_to=%2Fworkbench%2Fworklist')
  })

  it('offers no provider sign-in where the gateway has none', () => {
    expect(loginAddress({ development_sign_in: true }, '/worklist')).toBeNull()
  })
})
