/** /system: health (contract: System → Health Check). */
import type { ServerRoute } from '@hapi/hapi';

export function systemRoutes(version: string): ServerRoute[] {
  return [
    {
      method: 'GET',
      path: '/system/health',
      options: { auth: false },
      handler: () => ({ status: 'ok', version }),
    },
  ];
}
