/**
 * What a route declares about itself under `options.plugins.cairn`: the scope an API key needs
 * (`scope`) and how it is audited (`audit`, `auditFailures`, `auditActor`). Routes that declare
 * nothing get safe defaults, so a route added later is covered without touching this file:
 * a GET needs `read` and is not audited; anything else needs `admin` and is audited under its
 * method and path.
 */
import type { Request, RequestRoute, RouteOptions } from '@hapi/hapi';
import type { RouteScope } from '../../domain/api-keys.ts';

export interface CairnRoutePolicy {
  /** The weakest API key scope that may call the route; `session` = no key at all. */
  scope?: RouteScope;
  /** The audit action (e.g. `job.create`), or false for a route that changes nothing worth recording. */
  audit?: string | false;
  /** Record refusals too (status 4xx), for routes where a refusal is the news (failed logins). */
  auditFailures?: boolean;
  /** Who acts on a route without a session (logins): e.g. the username given. Never a secret. */
  auditActor?: (request: Request) => string | null;
}

/** Route options that declare a policy; spread into a route's `options`. */
export function policy(declared: CairnRoutePolicy): Pick<RouteOptions, 'plugins'> {
  return { plugins: { cairn: declared } as RouteOptions['plugins'] };
}

type AnyRoute = Pick<RequestRoute, 'method' | 'path' | 'settings'>;

function declaredOf(route: AnyRoute): CairnRoutePolicy {
  return ((route.settings.plugins as Record<string, unknown> | undefined)?.cairn as CairnRoutePolicy | undefined) ?? {};
}

/** The scope a key needs for `route`: its declaration, else `read` for GET and `admin` for anything else. */
export function scopeOf(route: AnyRoute): RouteScope {
  return declaredOf(route).scope ?? (route.method === 'get' ? 'read' : 'admin');
}

/** The audit action of `route`, or null when it is not audited. */
export function auditActionOf(route: AnyRoute): string | null {
  // hapi's own not-found and preflight handling: no route of ours.
  const method: string = route.method;
  if (method === '_special' || method === 'options') return null;
  const declared = declaredOf(route).audit;
  if (declared === false) return null;
  if (declared !== undefined) return declared;
  return route.method === 'get' ? null : `${route.method.toUpperCase()} ${route.path}`;
}

/** The whole declared policy of a route (defaults not applied). */
export function declaredPolicyOf(route: AnyRoute): CairnRoutePolicy {
  return declaredOf(route);
}
