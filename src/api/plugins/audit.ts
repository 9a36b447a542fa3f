/**
 * Audits requests in one place, after each response: a route's declared (or default) audit action
 * (route-policy.ts), the caller (session user or key name), the client's address and the outcome.
 * Successes are recorded for every audited route; refusals (401, 403) for routes declaring
 * `auditFailures` (logins), and any 403 of an authenticated caller (a key reaching past its scope). Bodies are never
 * read, so no secret can reach an entry; only the route's `auditActor` (a username) and ids are.
 */
import type { Plugin, Request } from '@hapi/hapi';
import { actorOf, type Caller } from '../../auth/index.ts';
import type { AuditLog, NewAuditEntry } from '../../audit/index.ts';
import type { ClientAddresses } from '../client-address.ts';
import { auditActionOf, declaredPolicyOf } from './route-policy.ts';

const PLUGIN = 'cairn-audit';

/**
 * Records this request under `action` instead of its route's, for a handler whose outcome names a
 * different event (a login whose password was right but whose 2FA step is still to come).
 */
export function auditAs(request: Request, action: string): void {
  (request.plugins as Record<string, unknown>)[PLUGIN] = { action };
}

function overriddenAction(request: Request): string | undefined {
  return ((request.plugins as Record<string, unknown>)[PLUGIN] as { action?: string } | undefined)?.action;
}

function statusOf(request: Request): number {
  const response = request.response as { statusCode?: number; output?: { statusCode: number } } | null;
  return response?.output?.statusCode ?? response?.statusCode ?? 500;
}

/** The id the request was about: the path's `id`, else the `id` of the object a create answered. */
function targetOf(request: Request, status: number): number | string | null {
  const param = (request.params as Record<string, unknown> | undefined)?.id;
  if (typeof param === 'number' || typeof param === 'string') return param;
  const source = (request.response as { source?: unknown } | null)?.source;
  if (status < 300 && source !== null && typeof source === 'object' && 'id' in source) {
    const id = (source as { id: unknown }).id;
    if (typeof id === 'number' || typeof id === 'string') return id;
  }
  return null;
}

function actorFieldsOf(request: Request): Pick<NewAuditEntry, 'actor' | 'actor_type'> {
  if (request.auth.isAuthenticated && request.auth.credentials) {
    const { actor, actor_type } = actorOf(request.auth.credentials as unknown as Caller);
    return { actor, actor_type };
  }
  const named = declaredPolicyOf(request.route).auditActor?.(request) ?? null;
  return { actor: typeof named === 'string' ? named.slice(0, 64) : null, actor_type: 'anonymous' };
}

export function auditPlugin(audit: AuditLog, clients: ClientAddresses): Plugin<void> {
  return {
    name: PLUGIN,
    register(server) {
      server.ext('onPostResponse', (request, h) => {
        const routeAction = auditActionOf(request.route);
        if (routeAction === null) return h.continue;
        const action = overriddenAction(request) ?? routeAction;
        const status = statusOf(request);
        const succeeded = status < 400;
        const refusedCaller = status === 403 && request.auth.isAuthenticated;
        // 401/403 only: a locked-out client's 429s would let it flood the bounded log and push real entries out.
        const refusedAttempt = (status === 401 || status === 403) && declaredPolicyOf(request.route).auditFailures === true;
        if (!succeeded && !refusedAttempt && !refusedCaller) return h.continue;
        void audit.record({
          action,
          outcome: succeeded ? 'success' : 'failure',
          status,
          ...actorFieldsOf(request),
          address: clients.of(request),
          method: request.method.toUpperCase(),
          path: request.path,
          target_id: targetOf(request, status),
        });
        return h.continue;
      });
    },
  };
}
