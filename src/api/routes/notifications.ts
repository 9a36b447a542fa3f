/** /notifications: channels (CRUD + send test), the kinds a channel can be, and the alert history. */
import type { ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import { channelCreateSchema, channelUpdateSchema } from '../../domain/notifications.ts';
import { channelCatalogue, type ChannelService } from '../../notifications/index.ts';
import type { AlertHistoryRepository } from '../../store/index.ts';
import { alertPageSchema, answers, channelKindSchema, channelSchema, channelTestSchema, listOf, messageSchema } from '../openapi/index.ts';
import { idOf, idParam, paging, queryOf } from '../params.ts';
import { body } from '../validation.ts';

export function notificationRoutes(channels: ChannelService, history: AlertHistoryRepository): ServerRoute[] {
  const params = idParam;
  return [
    { method: 'GET', path: '/notifications/kinds', options: answers(200, listOf(channelKindSchema)), handler: () => channelCatalogue() },
    { method: 'GET', path: '/notifications/channels', options: answers(200, listOf(channelSchema)), handler: () => channels.list() },
    { method: 'GET', path: '/notifications/channels/{id}', options: { ...answers(200, channelSchema), validate: { params } }, handler: (request) => channels.get(idOf(request)) },
    {
      method: 'POST',
      path: '/notifications/channels',
      options: { ...answers(201, channelSchema, [409]), validate: { payload: body(channelCreateSchema) } },
      handler: async (request, h) => h.response(await channels.create(request.payload as never)).code(201),
    },
    {
      method: 'PUT',
      path: '/notifications/channels/{id}',
      options: { ...answers(200, channelSchema, [409]), validate: { params, payload: body(channelUpdateSchema) } },
      handler: (request) => channels.update(idOf(request), request.payload as never),
    },
    {
      method: 'DELETE',
      path: '/notifications/channels/{id}',
      options: { ...answers(200, messageSchema, [409]), validate: { params } },
      async handler(request) {
        await channels.delete(idOf(request));
        return { message: 'Notification channel deleted' };
      },
    },
    {
      method: 'POST',
      path: '/notifications/channels/{id}/test',
      options: { ...answers(200, channelTestSchema), validate: { params } },
      handler: (request) => channels.test(idOf(request)),
    },
    {
      method: 'GET',
      path: '/notifications/history',
      options: { ...answers(200, alertPageSchema), validate: { query: Joi.object({ ...paging(50, 1000), job_id: Joi.number().integer().min(1) }) } },
      handler: (request) => {
        const query = queryOf<{ limit: number; offset: number; job_id?: number }>(request);
        return { ...history.page(query), limit: query.limit, offset: query.offset };
      },
    },
  ];
}
