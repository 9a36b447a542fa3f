/**
 * `cairn import --from TYPE …`: on a new box, the export a box wrote beside its backup at a remote
 * destination, reached with what an owner keeps on paper: the place (`--host --user --path`,
 * `--bucket --prefix --endpoint` …) and the credential, asked at the terminal (or read from a key
 * file), never taken from argv. The flags find their config fields through the provider's address
 * format (`GET /api/providers`), so a new destination type needs no change here.
 */
import { promises as fs } from 'node:fs';
import type { DaemonSession } from './daemon-session.ts';
import { readLine, readSecret } from './prompt.ts';

/** The flags that name the place, as `cairn import` declares them. */
export const LOCATION_FLAGS = {
  '--host': 'the server (SFTP), or the bucket (S3)',
  '--port': 'the server port',
  '--user': 'the user name the address holds (SFTP)',
  '--path': 'the backup folder on the server, or the key prefix (S3)',
  '--url': 'the server address (WebDAV)',
  '--bucket': 'the bucket (S3)',
  '--prefix': 'the key prefix (S3)',
  '--endpoint': 'an S3-compatible server\'s address',
  '--region': 'the S3 region',
} as const;

/** What the command line said about the destination to read. */
export interface ImportSource {
  type: string;
  /** Location flags given, by name without dashes. */
  location: Record<string, string>;
  /** `--key`: the address's key flag (SFTP: log in with a key). */
  key: boolean;
  /** `--key-file`: the file holding the credential's key (its `from_file` field). */
  keyFile?: string;
}

interface AddressFormat {
  host?: string;
  port?: string;
  user?: string;
  path?: string;
  url?: string;
  query?: Array<{ name: string; field: string; type: 'text' | 'number' | 'flag' }>;
}

interface Provider {
  type: string;
  name: string;
  address: AddressFormat;
  credential_fields: Array<{ key: string; label: string; secret: boolean; required: boolean; from_file?: boolean }>;
}

/**
 * The body of `POST /api/system/import/destination` without the passphrase, asking the credential;
 * a string saying what is wrong with the command line instead (exit 2).
 */
export async function destinationToImport(api: DaemonSession, source: ImportSource): Promise<Record<string, unknown> | string> {
  const providers = await api.call<Provider[]>('GET', '/api/providers');
  const provider = providers.status === 200 ? providers.body.find((entry) => entry.type === source.type) : undefined;
  if (!provider) return `--from: no destination type "${source.type}"${providers.status === 200 ? `; one of ${providers.body.map((entry) => entry.type).join(', ')}` : ''}`;
  const config = configOf(provider, source);
  if (typeof config === 'string') return config;
  const data = await credentialOf(provider, source.keyFile);
  if (typeof data === 'string') return data;
  return { destination_type: provider.type, destination_config: config, credential_data: data };
}

/** Each location flag put in the config field its address format names (a number where the format says so). */
function configOf(provider: Provider, source: ImportSource): Record<string, unknown> | string {
  const { address } = provider;
  const config: Record<string, unknown> = {};
  for (const [flag, value] of Object.entries(source.location)) {
    const role = address[flag as 'host' | 'port' | 'user' | 'path' | 'url'];
    const query = address.query?.find((parameter) => parameter.name === flag);
    // A flag that is no part of the address is taken as the config field of its name (S3's bucket, prefix).
    const field = typeof role === 'string' ? role : (query?.field ?? flag);
    const numeric = (typeof role === 'string' && flag === 'port') || query?.type === 'number';
    if (numeric && !/^\d+$/.test(value)) return `--${flag} must be a number`;
    config[field] = numeric ? Number(value) : value;
  }
  if (source.key) {
    const keyFlag = address.query?.find((parameter) => parameter.type === 'flag' && parameter.name === 'key');
    if (!keyFlag) return `--key: a ${provider.name} address has no key flag`;
    config[keyFlag.field] = true;
  }
  return config;
}

/** The credential's fields: the key file's content for its `from_file` field, every other field asked. Null when the type takes none. */
async function credentialOf(provider: Provider, keyFile: string | undefined): Promise<Record<string, string> | null | string> {
  const fields = provider.credential_fields;
  const fileField = fields.find((field) => field.from_file);
  if (keyFile !== undefined && !fileField) return `--key-file: a ${provider.name} credential takes no key file`;
  if (fields.length === 0) return null;
  const data: Record<string, string> = {};
  if (keyFile !== undefined && fileField) {
    const text = await fs.readFile(keyFile, 'utf8').catch((error: NodeJS.ErrnoException) => error);
    if (typeof text !== 'string') return `--key-file: cannot read ${keyFile} (${text.code ?? text.message})`;
    data[fileField.key] = text;
  }
  for (const field of fields) {
    if (field.from_file) continue;
    const question = `${provider.name} ${field.label.toLowerCase()}${field.required ? '' : ' (Enter for none)'}: `;
    const answer = field.secret ? await readSecret(question) : await readLine(question);
    if (answer !== '') data[field.key] = answer;
  }
  return data;
}
