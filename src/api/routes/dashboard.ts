/** The phone's home screen in one call: `GET /dashboard` (docs/API.md: Dashboard). */
import type { ServerRoute } from '@hapi/hapi';
import type { DashboardService } from '../../dashboard/index.ts';
import { answers, dashboardSchema } from '../openapi/index.ts';

/** `GET /dashboard`, behind the default authentication. */
export function dashboardRoutes(dashboard: DashboardService): ServerRoute[] {
  return [{ method: 'GET', path: '/dashboard', options: answers(200, dashboardSchema), handler: () => dashboard.dashboard() }];
}
