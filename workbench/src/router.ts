import { createRouter, createWebHistory } from 'vue-router'
import { acceptArrival, restore, session } from './lib/session'
import LoginView from './views/LoginView.vue'
import WorklistView from './views/WorklistView.vue'
import PersonView from './views/PersonView.vue'
import EnrollView from './views/EnrollView.vue'
import ReceiveClaimView from './views/ReceiveClaimView.vue'
import ClaimView from './views/ClaimView.vue'
import ClearingsView from './views/ClearingsView.vue'
import TransferView from './views/TransferView.vue'
import BenefitView from './views/BenefitView.vue'
import EmployeeEnrollView from './views/EmployeeEnrollView.vue'
import FacilityListView from './views/FacilityListView.vue'
import FacilityApplicationView from './views/FacilityApplicationView.vue'

export const router = createRouter({
  history: createWebHistory('/workbench/'),
  routes: [
    { path: '/', redirect: '/worklist' },
    { path: '/login', component: LoginView, meta: { public: true, title: '登录' } },
    { path: '/worklist', component: WorklistView, meta: { title: '待办工作' } },
    { path: '/person', component: PersonView, meta: { title: '参保人查询' } },
    { path: '/enroll', component: EnrollView, meta: { title: '城乡居民参保登记' } },
    { path: '/claims/new', component: ReceiveClaimView, meta: { title: '手工报销受理' } },
    { path: '/claims/:id', component: ClaimView, meta: { title: '报销申请' } },
    { path: '/clearings', component: ClearingsView, meta: { title: '清算表与打印' } },
    { path: '/transfers/:id', component: TransferView, meta: { title: '转移接续业务' } },
    { path: '/benefits/new', component: BenefitView, meta: { title: '待遇登记' } },
    { path: '/employees/new', component: EmployeeEnrollView, meta: { title: '职工参保登记（增员）' } },
    { path: '/facility', component: FacilityListView, meta: { title: '定点申请' } },
    { path: '/facility/:id', component: FacilityApplicationView, meta: { title: '定点申请' } },
    { path: '/:rest(.*)*', redirect: '/worklist' },
  ],
})

router.beforeEach(async (to) => {
  if (acceptArrival(to.hash)) return { path: to.path, query: to.query, hash: '', replace: true }
  if (to.meta.public) return true
  if (!session.me && !(await restore())) return { path: '/login', query: { next: to.fullPath } }
  return true
})

router.afterEach((to) => {
  document.title = `${(to.meta.title as string) ?? ''} - 医保经办工作台`
})
