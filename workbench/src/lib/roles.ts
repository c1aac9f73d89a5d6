// What the screen offers a user: the access policy of the services decides (the API refuses what is
// not allowed); the workbench only hides the actions a role or office level would be refused.
import type { Me } from './session'

export const isStaff = (me: Me | null): boolean => me?.role === 'staff'
export const isDistrictClerk = (me: Me | null): boolean => isStaff(me) && me?.office_level === 'district'
export const isCityReviewer = (me: Me | null): boolean => isStaff(me) && me?.office_level === 'city'

export interface Abilities {
  enroll: boolean // 参保登记 at a district counter
  receiveClaim: boolean // 手工报销受理
  accept: boolean
  review: boolean // 区级审核（逐张票据）
  approve: boolean // 市级核准
  pay: boolean
  issueCertificate: boolean // 出具参保凭证（中止参保后）
  clearings: boolean // 清算表的查看、打印与导出（区看本分中心，市看全部）
  enrollEmployee: boolean // 职工增员：单位本身，或分中心窗口代办
  facilityApplications: boolean // 定点申请：区分中心办理，市中心查看
}

export function abilities(me: Me | null): Abilities {
  const district = isDistrictClerk(me)
  const city = isCityReviewer(me)
  return {
    enroll: district,
    receiveClaim: district,
    accept: district,
    review: district,
    approve: city,
    pay: district,
    issueCertificate: district,
    clearings: district || city,
    enrollEmployee: district || me?.role === 'unit',
    facilityApplications: district || city,
  }
}

export const OFFICES: Record<string, string> = {
  '120000': '天津市医疗保障事业管理中心',
  '120101': '和平区分中心',
  '120102': '河东区分中心',
  '120103': '河西区分中心',
  '120104': '南开区分中心',
  '120105': '河北区分中心',
  '120106': '红桥区分中心',
}

export const officeName = (code: string | null | undefined): string =>
  code ? (OFFICES[code] ?? `经办机构 ${code}`) : '—'
