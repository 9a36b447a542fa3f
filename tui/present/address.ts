/**
 * A job's destination as one line of text, and back, read from the providers' `address` formats
 * (GET /providers, docs/API.md "Addresses") and nothing else: adding a destination type to the
 * daemon needs no change here. Forms:
 *   /mnt/backup                                   scheme null: the line is the path field
 *   sftp://backup@nas.local:2222/srv/backups?key  user, host, port, path and query parts
 *   webdav+https://cloud.example.com/dav?path=x   `url`: an http(s) URL after `scheme+`
 * Without `absolute_path` exactly one '/' after the host is dropped, so `rclone://sftp//srv/x` keeps
 * an absolute path and `rclone://sftp/backups` a relative one.
 */
import type { AddressFormat, Provider } from '../wire.ts';

/** A destination as a job body carries it. */
export interface Destination {
  destination_type: string;
  destination_config: Record<string, unknown>;
}

/** A line that is not an address of any provider; the message says what a valid line looks like. */
export class AddressError extends Error {}

type Config = Record<string, unknown>;

const isSet = (value: unknown) => value !== undefined && value !== null && value !== '';
const encodePath = (path: string) => path.split('/').map(encodeURIComponent).join('/');
const sameValue = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function decode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new AddressError(`the ${what} "${text}" has a % that is not followed by two hex digits`);
  }
}

/** `?a=1&key` for the query fields that differ from their defaults, plus `other_query`'s entries. */
function queryText(format: AddressFormat, config: Config): string {
  const parts: string[] = [];
  for (const param of format.query ?? []) {
    const value = config[param.field];
    if (param.type === 'flag') {
      if (value === true) parts.push(encodeURIComponent(param.name));
    } else if (isSet(value) && !sameValue(value, format.defaults[param.field])) {
      parts.push(`${encodeURIComponent(param.name)}=${encodeURIComponent(String(value))}`);
    }
  }
  const other = format.other_query ? config[format.other_query] : undefined;
  if (other && typeof other === 'object') {
    for (const [name, value] of Object.entries(other)) parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`);
  }
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

/** The one-line address of `config` in `format` (the inverse of `parseAddress`). */
export function formatAddress(format: AddressFormat, config: Config): string {
  const field = (name: string | undefined) => (name === undefined ? '' : String(config[name] ?? ''));
  if (format.scheme === null) return field(format.path);
  const query = queryText(format, config);
  if (format.url) return `${format.scheme}+${field(format.url)}${query}`;
  let text = `${format.scheme}://`;
  if (format.user) text += `${encodeURIComponent(field(format.user))}@`;
  if (format.host) text += field(format.host);
  if (format.port && isSet(config[format.port]) && !sameValue(config[format.port], format.defaults[format.port])) text += `:${field(format.port)}`;
  const path = field(format.path);
  if (!format.host) text += encodePath(path);
  // An absolute path of just '/' is what an address without a path reads as.
  else if (format.absolute_path) text += path === '/' ? '' : path.startsWith('/') ? encodePath(path) : `/${encodePath(path)}`;
  else if (path !== '') text += `/${encodePath(path)}`;
  return text + query;
}

/** The query's parameters into `config`; an unknown name is refused unless `other_query` takes it. */
function readQuery(provider: Provider, query: string, config: Config): void {
  const format = provider.address;
  const other: Record<string, string> = {};
  for (const part of query.split('&').filter((item) => item !== '')) {
    const at = part.indexOf('=');
    const name = decode(at < 0 ? part : part.slice(0, at), 'option');
    const value = at < 0 ? null : decode(part.slice(at + 1), 'option');
    const param = format.query?.find((candidate) => candidate.name === name);
    if (param?.type === 'flag') config[param.field] = true;
    else if (param && (value === null || value === '')) throw new AddressError(`?${name}= needs a value, e.g. ${format.example}`);
    else if (param?.type === 'number') {
      if (!/^\d+$/.test(value!)) throw new AddressError(`?${name}= takes a number, not "${value}"`);
      config[param.field] = Number(value);
    } else if (param) config[param.field] = value;
    else if (format.other_query) other[name] = value ?? '';
    else {
      const known = (format.query ?? []).map((candidate) => candidate.name);
      throw new AddressError(`"${name}" is not an option of ${provider.name} addresses${known.length > 0 ? `: use ${known.join(', ')}` : ''}`);
    }
  }
  if (format.other_query) config[format.other_query] = { ...(config[format.other_query] as object), ...other };
}

/** `scheme+http(s)://…`: the URL (without its query) fills the `url` field. */
function readUrl(provider: Provider, rest: string, config: Config): string {
  const format = provider.address;
  const [main, query = ''] = splitQuery(rest);
  let url: URL;
  try {
    url = new URL(main);
  } catch {
    throw new AddressError(`"${main}" is not a web address; ${provider.name} addresses look like ${format.example}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AddressError(`${provider.name} addresses take an http or https URL after "${format.scheme}+", e.g. ${format.example}`);
  config[format.url!] = `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  return query;
}

/** `user@host:port/path` into the fields the format names. */
function readAuthority(provider: Provider, main: string, config: Config): void {
  const format = provider.address;
  const hint = `e.g. ${format.example}`;
  if (!format.host) {
    if (!format.path) throw new AddressError(`${provider.name} addresses are just "${format.scheme}://", ${hint}`);
    config[format.path] = decode(main, 'path');
    return;
  }
  const slash = main.indexOf('/');
  let authority = slash < 0 ? main : main.slice(0, slash);
  const path = slash < 0 ? '' : decode(main.slice(slash), 'path');
  const at = authority.lastIndexOf('@');
  if (format.user) {
    if (at <= 0) throw new AddressError(`a ${provider.name} address names the user before an @, ${hint}`);
    config[format.user] = decode(authority.slice(0, at), 'user name');
  } else if (at >= 0) throw new AddressError(`${provider.name} addresses have no user name before an @, ${hint}`);
  authority = authority.slice(at + 1);
  const parts = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(authority)!;
  if (parts[2] !== undefined) {
    if (!format.port) throw new AddressError(`${provider.name} addresses have no :port, ${hint}`);
    if (!/^\d+$/.test(parts[2])) throw new AddressError(`the port "${parts[2]}" is not a number`);
    config[format.port] = Number(parts[2]);
  }
  if (parts[1] === '') throw new AddressError(`the address names no ${format.host} after "${format.scheme}://", ${hint}`);
  let host: string;
  try {
    host = new URL(`http://${parts[1]}`).hostname;
  } catch {
    throw new AddressError(`"${parts[1]}" is not a valid ${format.host}`);
  }
  config[format.host] = host;
  if (!format.path) {
    if (path !== '' && path !== '/') throw new AddressError(`${provider.name} addresses have no path, ${hint}`);
    return;
  }
  if (format.absolute_path) config[format.path] = path === '' ? '/' : path;
  else if (path !== '') config[format.path] = path.slice(1);
}

function splitQuery(text: string): [string, string?] {
  const mark = text.indexOf('?');
  return mark < 0 ? [text] : [text.slice(0, mark), text.slice(mark + 1)];
}

/** What a valid line looks like: the available providers' examples. */
export function addressExamples(providers: readonly Provider[]): string {
  return providers
    .filter((provider) => provider.available)
    .map((provider) => provider.address.example)
    .join(', ');
}

/**
 * The destination a typed line names, with `beside` (field → value typed next to the address; empty
 * values ignored) filled in. Throws AddressError when no available provider takes the line, naming
 * an unavailable provider's reason, a field the provider does not set beside, or what a valid line
 * looks like.
 */
export function parseAddress(providers: readonly Provider[], text: string, beside: Record<string, string> = {}): Destination {
  const line = text.trim();
  const schemeMatch = /^([a-z][a-z0-9.-]*)(\+|:\/\/)/i.exec(line);
  const scheme = line.startsWith('/') ? null : schemeMatch?.[1].toLowerCase();
  if (scheme === undefined) throw new AddressError(`"${line}" is not an address: use ${addressExamples(providers)}`);
  const provider = providers.find((candidate) => candidate.address.scheme === scheme);
  if (!provider) throw new AddressError(`"${scheme}" is not a destination Cairn knows: use ${addressExamples(providers)}`);
  if (!provider.available) throw new AddressError(`${provider.name} is not available here${provider.reason ? `: ${provider.reason}` : ''}`);
  const format = provider.address;
  const config: Config = structuredClone(format.defaults);
  let query = '';
  if (scheme === null) {
    if (!format.path) throw new AddressError(`${provider.name} addresses cannot be read: the provider names no path field`);
    config[format.path] = line;
  } else {
    const usesUrl = schemeMatch![2] === '+';
    if (usesUrl !== Boolean(format.url)) throw new AddressError(`${provider.name} addresses look like ${format.example}`);
    const rest = line.slice(schemeMatch![0].length);
    if (usesUrl) query = readUrl(provider, rest, config);
    else {
      const [main, after = ''] = splitQuery(rest);
      readAuthority(provider, main, config);
      query = after;
    }
  }
  readQuery(provider, query, config);
  for (const [field, value] of Object.entries(beside)) {
    if (value.trim() === '') continue;
    if (!format.beside.some((entry) => entry.field === field)) throw new AddressError(`${provider.name} destinations take no ${field}; leave it empty`);
    config[field] = value.trim();
  }
  return { destination_type: provider.type, destination_config: config };
}

/**
 * Where a job writes, for a list: its address, then each field set beside it that differs from its
 * default, after its label ("/mnt/usb in cairn USB 1234-ABCD"); `type:` for a type the daemon did not list.
 */
export function addressSummary(providers: readonly Provider[], type: string, config: Config): string {
  const provider = providers.find((candidate) => candidate.type === type);
  if (!provider) return `${type}:`;
  const extras = provider.address.beside
    .filter((entry) => isSet(config[entry.field]) && !sameValue(config[entry.field], provider.address.defaults[entry.field]))
    .map((entry) => `${entry.label} ${String(config[entry.field])}`);
  return [formatAddress(provider.address, config), ...extras].join(' ');
}
