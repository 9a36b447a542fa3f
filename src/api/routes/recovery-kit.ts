/**
 * `GET /jobs/:id/recovery-kit`: a repository job's location, password and restic commands (JSON, or
 * `?format=text` a page to print). It hands out the key to the whole backup, so it takes a session
 * or an admin key, and every fetch is audited.
 */
import type { ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import type { JobService } from '../../jobs/job-service.ts';
import { recoveryKitText } from '../../jobs/recovery-kit.ts';
import { answers, recoveryKitSchema } from '../openapi/index.ts';
import { idOf, idParam } from '../params.ts';
import { policy } from '../plugins/route-policy.ts';

export function recoveryKitRoutes(jobs: JobService): ServerRoute[] {
  return [
    {
      method: 'GET',
      path: '/jobs/{id}/recovery-kit',
      options: {
        ...policy({ scope: 'admin', audit: 'job.recovery_kit' }),
        ...answers(200, Joi.alternatives(recoveryKitSchema, Joi.string().description('With ?format=text: the kit as a page to print'))),
        validate: { params: idParam, query: Joi.object({ format: Joi.string().valid('json', 'text').default('json') }) },
      },
      handler: (request, h) => {
        const kit = jobs.recoveryKit(idOf(request));
        // Never kept by a cache or proxy: it is the backup's key.
        const answer = (request.query as { format: string }).format === 'text' ? h.response(recoveryKitText(kit)).type('text/plain; charset=utf-8') : h.response(kit);
        return answer.header('cache-control', 'no-store');
      },
    },
  ];
}
