// Sign-in through the office's identity provider (OpenID Connect, code + PKCE). The gateway is the
// OpenID client: the page only sends the browser to /api/v1/auth/oidc/login and, when the browser comes
// back, takes the access token (or the failure) from the address fragment, which no server ever sees.

export interface SignInConfig {
  development_sign_in: boolean
  oidc_login?: string
}

export type Arrival = { token: string } | { error: string } | null

const FAILURES: Record<string, string> = {
  state_mismatch: '登录请求已失效或不是本页发起的，请重新登录',
  provider_refused: '统一身份认证未通过，请重新登录',
  provider_unreachable: '暂时无法连接统一身份认证，请稍后再试',
  provider_misconfigured: '统一身份认证配置有误，请联系运维人员',
  code_refused: '授权码无效或已使用，请重新登录',
  nonce_mismatch: '登录应答与请求不符，请重新登录',
  id_token_invalid: '身份令牌无效，请重新登录',
  token_not_accepted: '该账号的令牌不符合平台要求（角色、经办机构），请联系管理员',
  subject_mismatch: '身份令牌与访问令牌不是同一账号，请重新登录',
}

/** What the gateway's callback left in the fragment: a token, a failure (in Chinese), or nothing. */
export function readArrival(hash: string): Arrival {
  const fields = new URLSearchParams(hash.replace(/^#/, ''))
  const token = fields.get('access_token')
  if (token) return { token }
  const error = fields.get('signin_error')
  if (error) return { error: FAILURES[error] ?? '登录失败，请重新登录' }
  return null
}

/** The gateway's login address that brings the browser back to `next` inside the workbench. */
export function loginAddress(config: SignInConfig, next: string): string | null {
  if (!config.oidc_login) return null
  const page = next.startsWith('/') && !next.startsWith('//') ? next : '/worklist'
  return `${config.oidc_login}?${new URLSearchParams({ return_to: `/workbench${page}` })}`
}
