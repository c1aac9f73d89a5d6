import { describe, expect, it } from 'vitest'
import { exportAddress, filenameOf } from '../src/lib/files'

describe('files behind the token', () => {
  it('saves a file under the name the API gives it', () => {
    expect(filenameOf('attachment; filename="clearing-2026-05.xlsx"', 'x.xlsx')).toBe('clearing-2026-05.xlsx')
    expect(filenameOf('attachment; filename=table.pdf', 'x.pdf')).toBe('table.pdf')
  })

  it('prefers the UTF-8 name, so a Chinese name survives', () => {
    const header = "attachment; filename=\"table.xlsx\"; filename*=UTF-8''%E6%B8%85%E7%AE%97%E8%A1%A8.xlsx"
    expect(filenameOf(header, 'x.xlsx')).toBe('清算表.xlsx')
  })

  it('never takes a folder from the name, and falls back when there is none', () => {
    expect(filenameOf('attachment; filename="../../etc/passwd"', 'x.pdf')).toBe('passwd')
    expect(filenameOf('attachment; filename=".."', 'x.pdf')).toBe('x.pdf')
    expect(filenameOf(null, 'x.pdf')).toBe('x.pdf')
  })

  it('puts only the filters that are set in an export address', () => {
    expect(exportAddress('/api/v1/settlement/clearings/export.xlsx', { period: '2026-05', facility_code: '' }))
      .toBe('/api/v1/settlement/clearings/export.xlsx?period=2026-05')
    expect(exportAddress('/x.pdf', {})).toBe('/x.pdf')
  })
})
