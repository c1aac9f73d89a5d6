// The step forms both the facility application and the transfer case pages use, mounted with Element
// Plus in jsdom against a stubbed fetch: what is sent, and what is never sent.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import StepActions from '../src/components/StepActions.vue'
import { applicationActions } from '../src/lib/facility'
import type { Me } from '../src/lib/session'

const clerk: Me = { subject: 'clerk-hx', role: 'staff', office_code: '120103', office_level: 'district' }
const base = '/api/v1/facility/applications/a1'

function answering(status: number, body: unknown) {
  const fetch = vi.fn(async () => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } }))
  vi.stubGlobal('fetch', fetch)
  return fetch
}

// Element Plus gives an input the id its form item names once mounted: awaited before typing.
async function mounted(status: string) {
  const wrapper = mount(StepActions, {
    props: { actions: applicationActions(clerk, { status, office_code: '120103' }), version: 3, basePath: base },
    global: { plugins: [ElementPlus] },
  })
  await flushPromises()
  return wrapper
}

afterEach(() => vi.unstubAllGlobals())

describe('step forms', () => {
  it('posts a step with the version and the typed list split, and hands the answer back', async () => {
    const fetch = answering(200, { application: { status: 'expert_review' } })
    const wrapper = await mounted('accepted')
    await wrapper.find('#start_review-reviewers').setValue('专家甲\n专家乙')
    await wrapper.find('#step-start_review').trigger('submit')
    await flushPromises()
    const [path, init] = fetch.mock.calls[0] as unknown as [string, RequestInit]
    expect(path).toBe(`${base}/start-review`)
    expect(init.method).toBe('POST')
    expect(JSON.parse(String(init.body))).toEqual({ version: 3, reviewers: ['专家甲', '专家乙'] })
    expect(wrapper.emitted('done')?.[0]).toEqual([{ application: { status: 'expert_review' } }])
  })

  it('names every empty required field and sends nothing', async () => {
    const fetch = answering(200, {})
    const wrapper = await mounted('agreement_pending')
    await wrapper.find('#sign_agreement-number').setValue('TJ-2026-001')
    await wrapper.find('#step-sign_agreement').trigger('submit')
    await flushPromises()
    expect(fetch).not.toHaveBeenCalled()
    expect(wrapper.find('#step-error').text()).toBe('请填写：协议起始日、协议终止日、协议双方（每行一方）')
  })

  it('shows the API refusal in Chinese and hands nothing back', async () => {
    answering(409, { title: '版本冲突', detail: '该申请已被他人办理，请刷新后重试', code: 'version_conflict' })
    const wrapper = await mounted('received')
    await wrapper.find('#step-accept').trigger('submit')
    await flushPromises()
    expect(wrapper.find('#step-error').text()).toBe('版本冲突；该申请已被他人办理，请刷新后重试')
    expect(wrapper.emitted('done')).toBeUndefined()
  })

  it('renders nothing when no step is offered', () => {
    const wrapper = mount(StepActions, {
      props: { actions: [], version: 1, basePath: base },
      global: { plugins: [ElementPlus] },
    })
    expect(wrapper.find('.step-actions').exists()).toBe(false)
  })
})
