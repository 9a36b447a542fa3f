/** Saved credentials: list, add (secrets typed without echo) and delete (refused while a job uses one). */
import { readFileSync } from 'node:fs';
import blessed from 'blessed';
import { ApiError, type TuiApi } from '../api.ts';
import { footerFor, keysOf } from '../keys.ts';
import { CREDENTIAL_FIELDS, credentialDataOf, credentialLines, type CredentialField } from '../present/credentials.ts';
import { runForm } from './form.ts';

/** The typed values as credential data; a key file that cannot be read is said next to its field. */
function dataOf(fields: CredentialField[], values: Record<string, string>): Record<string, string> {
  return credentialDataOf(fields, values, (file) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw new ApiError(400, 'KEY_FILE', `"private_key_file": ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  });
}

export async function showCredentials(screen: blessed.Widgets.Screen, api: TuiApi, color: boolean): Promise<void> {
  let credentials: any[] = [];
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
            { key: 'provider_type', label: 'Provider', value: 's3' },
          ],
          submit: async (values) => {
            if (!CREDENTIAL_FIELDS[values.provider_type]) throw new ApiError(400, 'VALIDATION_FAILED', `"provider_type" must be one of ${Object.keys(CREDENTIAL_FIELDS).join(', ')}`);
            return values;
          },
          fieldOfError: (error) => (error.message.includes('provider') ? 'provider_type' : 'name'),
        }, color);
        if (!kind) return;
        const created = await runForm(screen, {
          title: `${kind.name} (${kind.provider_type})`,
          fields: CREDENTIAL_FIELDS[kind.provider_type].map((field) => ({ ...field, value: '', secret: !field.shown })),
          submit: async (values) => api.createCredential({ name: kind.name, provider_type: kind.provider_type, data: dataOf(CREDENTIAL_FIELDS[kind.provider_type], values) }),
          fieldOfError: (error) => CREDENTIAL_FIELDS[kind.provider_type].find((field) => error.message.includes(field.key))?.key ?? CREDENTIAL_FIELDS[kind.provider_type][0].key,
        }, color);
        notice = created ? `saved ${created.name}` : '';
      }),
    );
    list.key(keysOf('edit-credential'), () => {
      const credential = credentials[(list as unknown as { selected: number }).selected ?? 0];
      if (!credential) return;
      const secrets = CREDENTIAL_FIELDS[credential.provider_type] ?? [];
      later(async () => {
        const saved = await runForm(screen, {
          title: `Edit ${credential.name} — leave the secrets empty to keep them`,
          fields: [{ key: 'name', label: 'Name', value: credential.name }, ...secrets.map((field) => ({ ...field, value: '', secret: !field.shown }))],
          submit: async (values) => {
            const data = dataOf(secrets, values);
            const replacing = Object.keys(data).length > 0;
            return api.updateCredential(credential.id, { name: values.name, ...(replacing ? { data } : {}) });
          },
          fieldOfError: (error) => secrets.find((field) => error.message.includes(field.key))?.key ?? 'name',
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
