/**
 * `GET /metrics` (outside /api, where Prometheus looks): the exposition text. It takes the server's
 * default authentication like every other route, so whatever credential the server accepts (a
 * session today, an API key once that scheme is registered in the default) works here too.
 */
import type { ServerRoute } from '@hapi/hapi';
import { cairnMetrics, PROMETHEUS_CONTENT_TYPE, renderPrometheus, type DashboardService } from '../../dashboard/index.ts';
import { answers, textBody } from '../openapi/index.ts';

/** `GET /metrics`, to be registered outside the /api prefix. */
export function metricsRoutes(version: string, dashboard: DashboardService): ServerRoute[] {
  return [
    {
      method: 'GET',
      path: '/metrics',
      options: answers(200, textBody('text/plain', `The Prometheus text format 0.0.4 (\`Content-Type: ${PROMETHEUS_CONTENT_TYPE}\`); docs/API.md: Metrics`)),
      async handler(_request, h) {
        const [jobs, drives] = await Promise.all([dashboard.jobsNow(), dashboard.drives()]);
        return h.response(renderPrometheus(cairnMetrics(version, jobs, drives))).type(PROMETHEUS_CONTENT_TYPE);
      },
    },
  ];
}
