/**
 * What a mini-program shows an insured person: "am I covered?" and "where is my reimbursement?".
 * Type-checked with the client (npm run typecheck); run it against a gateway with a token of an
 * insured person: the calls and fields are the real ones.
 */
import { createYibaoClient, problemOf, type Schemas } from '../src/index'

type Enrollment = Schemas['EnrollmentOut']
type Claim = Schemas['ClaimOut']

export interface CoverageCard {
  scheme: string
  status: string
  /** 待遇享受期：the first day benefits are paid, and the last (null: open-ended). */
  from: string | null
  until: string | null
}

export interface ClaimProgress {
  status: string
  claimed: string
  /** Materials the office still needs; empty when nothing is missing. */
  missing: string[]
  /** The date the payment is due by (working days from acceptance), when the office has accepted it. */
  expectedPaymentBy: string | null
}

export async function coverageCards(gateway: string, token: string): Promise<CoverageCard[]> {
  const api = createYibaoClient(gateway, () => token)
  const { data, error, response } = await api.GET('/api/v1/registration/enrollments', {
    params: { query: { page: 1, size: 20 } },
  })
  if (!data) throw new Error(problemOf(error, response.status).title)
  return data.items.map((enrollment: Enrollment) => ({
    scheme: enrollment.scheme,
    status: enrollment.status,
    from: enrollment.benefit_start ?? null,
    until: enrollment.benefit_end ?? null,
  }))
}

export async function claimProgress(gateway: string, token: string, claimId: string): Promise<ClaimProgress> {
  const api = createYibaoClient(gateway, () => token)
  const { data, error, response } = await api.GET('/api/v1/claims/reimbursements/{claim_id}', {
    params: { path: { claim_id: claimId } },
  })
  if (!data) throw new Error(problemOf(error, response.status).title)
  const claim: Claim = data
  return {
    status: claim.status,
    claimed: claim.claimed,
    missing: (claim.missing_materials ?? []).map((material) => material.name),
    expectedPaymentBy: claim.expected_payment_by ?? null,
  }
}

type Case = Schemas['CaseOut']

/**
 * "我的业务": every case of the person across the services, soonest due first, and a poll for what
 * changed since the last look (keep `cursor` in the app's storage; an app that can hold a connection
 * may subscribe to /api/v1/me/cases/events instead, with EventSource).
 */
export async function myCases(gateway: string, token: string): Promise<{ cases: Case[]; cursor: string }> {
  const api = createYibaoClient(gateway, () => token)
  const { data, error, response } = await api.GET('/api/v1/me/cases', { params: { query: { size: 100 } } })
  if (!data) throw new Error(problemOf(error, response.status).title)
  return { cases: data.items, cursor: data.cursor }
}

export async function whatChanged(gateway: string, token: string, since: string): Promise<{ notices: string[]; cursor: string }> {
  const api = createYibaoClient(gateway, () => token)
  const { data, error, response } = await api.GET('/api/v1/me/cases/changes', { params: { query: { since } } })
  if (!data) throw new Error(problemOf(error, response.status).title)
  const notices = data.items
    .filter((change) => change.case !== null && change.case !== undefined)
    .map((change) => `${change.case?.title}：${change.case?.status}${change.case?.due_on ? `（${change.case.due_label} ${change.case.due_on}）` : ''}`)
  return { notices, cursor: data.cursor }
}
