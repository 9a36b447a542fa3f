/** Path and query parameters shared by routes. */
import Joi from 'joi';

/** `{id}` in a path: a positive integer. */
export const idParam = Joi.object({ id: Joi.number().integer().min(1).max(2 ** 31 - 1).required() });

/** `?limit=&offset=` with the route's default and ceiling for limit. */
export function paging(defaultLimit: number, maxLimit: number) {
  return {
    limit: Joi.number().integer().min(1).max(maxLimit).default(defaultLimit),
    offset: Joi.number().integer().min(0).default(0),
  };
}

export interface IdParams {
  id: number;
}

/** The validated `{id}` of a route declared with `idParam`. */
export function idOf(request: { params: unknown }): number {
  return (request.params as IdParams).id;
}

/** The validated query of a route, typed as its schema makes it. */
export function queryOf<T>(request: { query: unknown }): T {
  return request.query as T;
}
