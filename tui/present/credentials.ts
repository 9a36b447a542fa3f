/**
 * The credential form, built from GET /providers: which providers take a credential, the fields each
 * asks for (secret ones typed without echo) and the `data` sent for what was typed.
 */
import type { CredentialField, Provider } from '../wire.ts';

/** The providers that have a credential form, in the daemon's order. */
export function credentialProviders(providers: readonly Provider[]): Provider[] {
  return providers.filter((provider) => provider.credential_fields.length > 0);
}

/** The provider field's help: one line per provider, the unavailable ones with their reason. */
export function providerChoiceHelp(providers: readonly Provider[]): string {
  const choices = credentialProviders(providers);
  const width = Math.max(0, ...choices.map((provider) => provider.type.length));
  return choices.map((provider) => `${provider.type.padEnd(width)}  ${provider.available ? provider.name : `${provider.name}: not available, ${provider.reason ?? 'the daemon cannot run it'}`}`).join('\n');
}

/** A provider the form cannot take, with the message to show next to the field. */
export class ProviderChoiceError extends Error {}

/** The provider typed (its type name); throws ProviderChoiceError naming the choices or the reason it is unavailable. */
export function providerOfChoice(providers: readonly Provider[], typed: string): Provider {
  const choices = credentialProviders(providers);
  const provider = choices.find((candidate) => candidate.type === typed.trim());
  const available = choices.filter((candidate) => candidate.available).map((candidate) => candidate.type);
  if (!provider) throw new ProviderChoiceError(`"provider_type" must be one of ${available.join(', ')}`);
  if (!provider.available) throw new ProviderChoiceError(`${provider.name} is not available here: ${provider.reason ?? 'the daemon cannot run it'}`);
  return provider;
}

/**
 * The credential's `data` for what was typed: empty fields left out, and a `from_file` field's path
 * replaced by what the file holds (`readFile` reads it), since a multi-line key cannot be typed into one line.
 */
export function credentialDataOf(fields: readonly CredentialField[], values: Record<string, string>, readFile: (path: string) => string): Record<string, string> {
  const data: Record<string, string> = {};
  for (const field of fields) {
    const value = values[field.key] ?? '';
    if (value === '') continue;
    data[field.key] = field.from_file ? readFile(value.trim()) : value;
  }
  return data;
}

/** One line per saved credential (the API never sends secrets, so there are none to hide). */
export function credentialLines(credentials: Array<{ id: number; name: string; provider_type: string; updated_at: string }>): string[] {
  return credentials.map((credential) => `${String(credential.id).padStart(3)}  ${credential.provider_type.padEnd(13)} ${credential.name}`);
}
