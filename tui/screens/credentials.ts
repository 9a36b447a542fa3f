/** Saved credentials: list, add (secrets typed without echo) and delete (refused while a job uses one). */
import { readFileSync } from 'node:fs';
import blessed from 'blessed';
import { ApiError, type TuiApi } from '../api.ts';
import { footerFor, keysOf } from '../keys.ts';
import { credentialDataOf, credentialLines, providerChoiceHelp, ProviderChoiceError, providerOfChoice } from '../present/credentials.ts';
import type { Credential, CredentialField, Provider } from '../wire.ts';
import { runForm, type FormField } from './form.ts';

/** The typed values as credential data; a file that cannot be read is said next to its field. */
function dataOf(fields: readonly CredentialField[], values: Record<string, string>): Record<string, string> {
  const fromFile = fields.find((field) => field.from_file);
  return credentialDataOf(fields, values, (file) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw new ApiError(400, 'FILE', `"${fromFile?.key}": ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  });
}

/** A provider's credential fields as form fields: secrets without echo, the provider's help beside each. */
function formFieldsOf(fields: readonly CredentialField[]): FormField[] {
  return fields.map((field) => ({ key: field.key, label: field.label, value: '', secret: field.secret, ...(field.help ? { help: field.help } : {}) }));
}

/** The field an API error names, else the first. */
function fieldNamed(fields: readonly CredentialField[], message: string, fallback: string): string {
  return fields.find((field) => message.includes(`"${field.key}"`) || message.includes(field.key))?.key ?? fallback;
}

export async function showCredentials(screen: blessed.Widgets.Screen, api: TuiApi, color: boolean): Promise<void> {
  // Asked once when the screen opens: the providers say which fields each credential has.
  const providers: Provider[] = await api.providers();
  let credentials: Credential[] = [];
  let notice = '';
  const list = blessed.list({ parent: screen, top: 0, left: 0, width: '100%', height: '100%-1', border: 'line', label: ' Credentials ', keys: true, vi: true, mouse: true, tags: true, style: color ? { selected: { bg: 'blue' } } : { selected: { inverse: true } } });
  const footer = blessed.box({ parent: screen, bottom: 0, left: 0, width: '100%', height: 1 });
  const load = async () => {
    credentials = await api.credentials();
    list.setItems(credentialLines(credentials).map((line) => blessed.escape(line)) as never);
    if (credentials.length === 0) list.setItems(['no credentials yet: n adds one'] as never);
    footer.setContent(`${footerFor('credentials')}${notice ? `  · ${notice}` : ''}`);
    list.focus();
    screen.render();
  };
  const later = (work: () => Promise<void>) => void new Promise((resolve) => setImmediate(resolve)).then(work).then(load);

  await load();
  await new Promise<void>((resolve) => {
    list.key(keysOf('new-credential'), () =>
      later(async () => {
        const kind = await runForm(screen, {
          title: 'New credential',
          fields: [
            { key: 'name', label: 'Name', value: '' },
            { key: 'provider_type', label: 'Provider', value: '', help: providerChoiceHelp(providers) },
          ],
          submit: async (values) => {
            try {
              return { name: values.name, provider: providerOfChoice(providers, values.provider_type) };
            } catch (error) {
              if (error instanceof ProviderChoiceError) throw new ApiError(400, 'VALIDATION_FAILED', error.message);
              throw error;
            }
          },
          fieldOfError: () => 'provider_type',
        }, color);
        if (!kind) return;
        const fields = kind.provider.credential_fields;
        const created = await runForm(screen, {
          title: `${kind.name} (${kind.provider.name})`,
          fields: formFieldsOf(fields),
          submit: async (values) => api.createCredential({ name: kind.name, provider_type: kind.provider.type, data: dataOf(fields, values) }),
          fieldOfError: (error) => fieldNamed(fields, error.message, fields[0].key),
        }, color);
        notice = created ? `saved ${created.name}` : '';
      }),
    );
    list.key(keysOf('edit-credential'), () => {
      const credential = credentials[(list as unknown as { selected: number }).selected ?? 0];
      if (!credential) return;
      const secrets = providers.find((provider) => provider.type === credential.provider_type)?.credential_fields ?? [];
      later(async () => {
        const saved = await runForm(screen, {
          title: `Edit ${credential.name} — leave the secrets empty to keep them`,
          fields: [{ key: 'name', label: 'Name', value: credential.name }, ...formFieldsOf(secrets)],
          submit: async (values) => {
            const data = dataOf(secrets, values);
            const replacing = Object.keys(data).length > 0;
            return api.updateCredential(credential.id, { name: values.name, ...(replacing ? { data } : {}) });
          },
          fieldOfError: (error) => fieldNamed(secrets, error.message, 'name'),
        }, color);
        notice = saved ? `saved ${saved.name}` : '';
      });
    });
    list.key(keysOf('delete-credential'), () => {
      const credential = credentials[(list as unknown as { selected: number }).selected ?? 0];
      if (!credential) return;
      later(async () => {
        try {
          await api.deleteCredential(credential.id);
          notice = `deleted ${credential.name}`;
        } catch (error) {
          notice = error instanceof ApiError ? error.message : String(error);
        }
      });
    });
    list.key(keysOf('back'), () => resolve());
  });
  list.destroy();
  footer.destroy();
}
