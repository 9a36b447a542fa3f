/** /audit: the audit log, newest first, paged and filtered (issue 16). */
import type { ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import type { AuditLog, AuditQuery } from '../../audit/index.ts';
import { answers, auditPageSchema } from '../openapi/index.ts';
import { paging, queryOf } from '../params.ts';
import { policy } from '../plugins/route-policy.ts';

const auditQuerySchema = Joi.object({
  ...paging(100, 1000),
  action: Joi.string().max(200),
  actor: Joi.string().max(64),
  since: Joi.date().iso(),
  until: Joi.date().iso(),
});

export function auditRoutes(audit: AuditLog): ServerRoute[] {
  return [
    {
      method: 'GET',
      path: '/audit',
      // Who did what from where is the owner's business, not a read-only dashboard's.
      options: { ...policy({ scope: 'admin' }), ...answers(200, auditPageSchema), validate: { query: auditQuerySchema } },
      handler: (request) => {
        const query = queryOf<AuditQuery>(request);
        const { entries, total } = audit.query(query);
        return { entries, total, limit: query.limit, offset: query.offset };
      },
    },
  ];
}
