/** /credentials and /providers (contract: Credentials, Providers). */
import type { HostKeyPins } from '../../destinations/types.ts';
import type { ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import { checkedSecret, type CredentialService } from '../../credentials/credential-service.ts';
import { capabilitiesOf, destinationOf, providerCatalogue, validateDestinationConfig } from '../../destinations/index.ts';
import { credentialCreateSchema, credentialUpdateSchema } from '../../domain/credentials.ts';
import { invalid, isCairnError } from '../../domain/errors.ts';
import type { AllowedPaths } from '../../files/allowed-paths.ts';
import { checkDestinationFolders } from '../../jobs/job-paths.ts';
import { idOf, idParam, queryOf } from '../params.ts';
import { body } from '../validation.ts';

const providerTestSchema = Joi.object({
  destination_type: Joi.string().max(50).required(),
  destination_config: Joi.object().unknown(true).required(),
  credential_id: Joi.number().integer().min(1).allow(null),
  credential_data: Joi.object().unknown(true).allow(null),
}).oxor('credential_id', 'credential_data');

interface ProviderTest {
  destination_type: string;
  destination_config: Record<string, unknown>;
  credential_id?: number | null;
  credential_data?: Record<string, unknown> | null;
}

export function credentialRoutes(credentials: CredentialService, hostKeys: HostKeyPins, allowedPaths: AllowedPaths): ServerRoute[] {
  const params = idParam;

  /** The secret a connection test uses: a saved credential's, or inline data (used, never stored). */
  const secretForTest = async (input: ProviderTest): Promise<Record<string, string> | null> => {
    if (input.credential_id) {
      if (credentials.providerOf(input.credential_id) !== input.destination_type) {
        throw invalid('CREDENTIAL_MISMATCH', `Credential ${input.credential_id} is for another provider`);
      }
      return credentials.secretOf(input.credential_id);
    }
    if (input.credential_data && destinationOf(input.destination_type).credentialSchema) {
      return checkedSecret(input.destination_type, input.credential_data);
    }
    return null;
  };

  return [
    {
      method: 'GET',
      path: '/credentials',
      options: { validate: { query: Joi.object({ provider: Joi.string().max(50) }) } },
      handler: (request) => credentials.list(queryOf<{ provider?: string }>(request).provider),
    },
    { method: 'GET', path: '/credentials/{id}', options: { validate: { params } }, handler: (request) => credentials.get(idOf(request)) },
    {
      method: 'POST',
      path: '/credentials',
      options: { validate: { payload: body(credentialCreateSchema) } },
      handler: async (request, h) => h.response(await credentials.create(request.payload as never)).code(201),
    },
    {
      method: 'PUT',
      path: '/credentials/{id}',
      options: { validate: { params, payload: body(credentialUpdateSchema) } },
      handler: (request) => credentials.update(idOf(request), request.payload as never),
    },
    {
      method: 'DELETE',
      path: '/credentials/{id}',
      options: { validate: { params } },
      async handler(request) {
        await credentials.delete(idOf(request));
        return { message: 'Credential deleted' };
      },
    },
    { method: 'GET', path: '/credentials/{id}/usage', options: { validate: { params } }, handler: (request) => credentials.usage(idOf(request)) },
    { method: 'GET', path: '/providers', handler: () => providerCatalogue() },
    {
      method: 'GET',
      path: '/providers/{type}/capabilities',
      options: { validate: { params: Joi.object({ type: Joi.string().max(50).required() }) } },
      handler: (request) => {
        const type = (request.params as { type: string }).type;
        return { provider_type: type, capabilities: capabilitiesOf(type) };
      },
    },
    {
      method: 'POST',
      path: '/providers/test',
      options: { validate: { payload: body(providerTestSchema) } },
      async handler(request) {
        const input = request.payload as ProviderTest;
        const destination = destinationOf(input.destination_type);
        const secret = await secretForTest(input);
        const config = validateDestinationConfig(input.destination_type, input.destination_config);
        // The local test writes a probe file: only where a job could write.
        await checkDestinationFolders(allowedPaths, destination, config);
        try {
          const result = await destination.test(config, secret, hostKeys);
          return { success: true, message: result.message, details: result.details };
        } catch (error) {
          if (!isCairnError(error)) throw error;
          return { success: false, message: error.message, details: null };
        }
      },
    },
  ];
}
