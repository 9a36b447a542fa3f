/**
 * joi → JSON Schema (the 2020-12 dialect OpenAPI 3.1 uses), for the joi subset Cairn's routes use.
 * It reads `schema.describe()`, joi's public description, never joi's internals.
 *
 * What cannot be said in JSON Schema is widened, never narrowed, so every value joi accepts is
 * valid against the result: a `custom()` rule, a reference (`Joi.ref`, `$headers`) or an
 * object dependency (`or`, `xor`, `oxor`, `with`) is left out; a `when()` becomes `anyOf` its
 * branches (what the condition picks is said in words only). A `rename()` documents the old name
 * as a deprecated property of the new one's shape.
 */
import type Joi from 'joi';

/** A JSON Schema object (2020-12); booleans are not used. */
export type JsonSchema = { [keyword: string]: unknown };

/** One `describe()` node: the fields this converter reads. */
interface Described {
  type: string;
  flags?: {
    presence?: 'required' | 'optional' | 'forbidden';
    only?: boolean;
    default?: unknown;
    description?: string;
    unknown?: boolean;
    match?: 'any' | 'one' | 'all';
  };
  allow?: unknown[];
  rules?: Array<{ name: string; args?: Record<string, unknown> }>;
  keys?: Record<string, Described>;
  items?: Described[];
  ordered?: Described[];
  matches?: Branching[];
  whens?: Branching[];
  renames?: Array<{ from: string; to: string }>;
  patterns?: Array<{ schema?: Described; regex?: string; rule: Described }>;
}

/** The JSON Schema of a joi schema. */
export function jsonSchemaOf(schema: Joi.Schema): JsonSchema {
  return convert(schema.describe() as Described);
}

/** The JSON Schema of a joi description (`schema.describe()`, or a part of one). */
export function jsonSchemaOfDescription(description: Joi.Description): JsonSchema {
  return convert(description as unknown as Described);
}

/** Whether a joi schema marks its value required (a path parameter, a body). */
export function isRequired(schema: Joi.Schema): boolean {
  return (schema.describe() as Described).flags?.presence === 'required';
}

/**
 * The keys of a joi object schema (query or path parameters) as name → schema and whether each is
 * required; empty for anything that is not an object with keys.
 */
export function objectKeysOf(schema: Joi.Schema): Array<{ name: string; schema: JsonSchema; required: boolean }> {
  const described = schema.describe() as Described;
  return Object.entries(described.keys ?? {})
    .filter(([, key]) => key.flags?.presence !== 'forbidden')
    .map(([name, key]) => ({ name, schema: convert(key), required: key.flags?.presence === 'required' }));
}

function convert(node: Described): JsonSchema {
  const base = convertType(node);
  const withValues = withAllowedValues(node, base);
  return withAnnotations(node, withWhens(node, withValues));
}

/** The type itself, with its rules. */
function convertType(node: Described): JsonSchema {
  switch (node.type) {
    case 'string':
      return stringSchema(node);
    case 'number':
      return numberSchema(node);
    case 'boolean':
      return { type: 'boolean' };
    // JSON carries dates as text: the API's are ISO-8601 strings.
    case 'date':
      return { type: 'string', format: 'date-time' };
    case 'array':
      return arraySchema(node);
    case 'object':
      return objectSchema(node);
    case 'alternatives':
      return anyOf((node.matches ?? []).flatMap((match) => branchNodesOf(match)).map(convert));
    default:
      // any, link, symbol, function …: nothing a JSON document can narrow.
      return {};
  }
}

function ruleArgs(node: Described, name: string): Record<string, unknown> | undefined {
  return node.rules?.find((rule) => rule.name === name)?.args ?? (node.rules?.some((rule) => rule.name === name) ? {} : undefined);
}

/** A rule's numeric `limit`, or undefined when it is absent or a reference. */
function limitOf(node: Described, name: string): number | undefined {
  const limit = ruleArgs(node, name)?.limit;
  return typeof limit === 'number' ? limit : undefined;
}

function stringSchema(node: Described): JsonSchema {
  const schema: JsonSchema = { type: 'string' };
  const length = limitOf(node, 'length');
  setIfDefined(schema, 'minLength', length ?? limitOf(node, 'min'));
  setIfDefined(schema, 'maxLength', length ?? limitOf(node, 'max'));
  const patterns = (node.rules ?? []).filter((rule) => rule.name === 'pattern').map((rule) => ecmaPattern(rule.args?.regex));
  const usable = patterns.filter((pattern): pattern is string => pattern !== null);
  if (usable.length === 1) schema.pattern = usable[0];
  else if (usable.length > 1) schema.allOf = usable.map((pattern) => ({ pattern }));
  const formats: Record<string, string> = { isoDate: 'date-time', email: 'email', uri: 'uri', hostname: 'hostname', guid: 'uuid' };
  for (const [rule, format] of Object.entries(formats)) if (ruleArgs(node, rule)) schema.format = format;
  return schema;
}

/**
 * A joi regex description (`/source/flags`) as a JSON Schema pattern, or null when its flags
 * change its meaning (`i`, `m`, `s`): a pattern cannot carry flags, and a wrong one would refuse
 * values joi accepts.
 */
function ecmaPattern(regex: unknown): string | null {
  if (typeof regex !== 'string') return null;
  const match = regex.match(/^\/(.*)\/([a-z]*)$/s);
  if (!match) return null;
  return /[ims]/.test(match[2]) ? null : match[1];
}

function numberSchema(node: Described): JsonSchema {
  const schema: JsonSchema = { type: ruleArgs(node, 'integer') ? 'integer' : 'number' };
  setIfDefined(schema, 'minimum', limitOf(node, 'min'));
  setIfDefined(schema, 'maximum', limitOf(node, 'max'));
  setIfDefined(schema, 'exclusiveMinimum', limitOf(node, 'greater') ?? (ruleArgs(node, 'sign')?.sign === 'positive' ? 0 : undefined));
  setIfDefined(schema, 'exclusiveMaximum', limitOf(node, 'less') ?? (ruleArgs(node, 'sign')?.sign === 'negative' ? 0 : undefined));
  return schema;
}

function arraySchema(node: Described): JsonSchema {
  const schema: JsonSchema = { type: 'array' };
  if (node.ordered?.length) schema.prefixItems = node.ordered.map(convert);
  if (node.items?.length) schema.items = anyOf(node.items.map(convert));
  const length = limitOf(node, 'length');
  setIfDefined(schema, 'minItems', length ?? limitOf(node, 'min'));
  setIfDefined(schema, 'maxItems', length ?? limitOf(node, 'max'));
  if (ruleArgs(node, 'unique')) schema.uniqueItems = true;
  return schema;
}

function objectSchema(node: Described): JsonSchema {
  const schema: JsonSchema = { type: 'object' };
  const keys = Object.entries(node.keys ?? {}).filter(([, key]) => key.flags?.presence !== 'forbidden');
  const properties: Record<string, JsonSchema> = Object.fromEntries(keys.map(([name, key]) => [name, convert(key)]));
  for (const rename of node.renames ?? []) {
    if (properties[rename.to] && !properties[rename.from]) properties[rename.from] = { ...properties[rename.to], deprecated: true, description: `Old name of \`${rename.to}\`.` };
  }
  if (Object.keys(properties).length > 0) schema.properties = properties;
  const required = keys.filter(([, key]) => key.flags?.presence === 'required').map(([name]) => name);
  if (required.length > 0) schema.required = required;
  // joi refuses keys it does not name unless told otherwise; `Joi.object()` with no keys takes any.
  if (node.patterns?.length) schema.additionalProperties = anyOf(node.patterns.map((pattern) => convert(pattern.rule)));
  else if (node.keys !== undefined && node.flags?.unknown !== true) schema.additionalProperties = false;
  return schema;
}

/** `valid()` makes the value one of a list; `allow()` adds values (null, '') to what the type takes. */
function withAllowedValues(node: Described, base: JsonSchema): JsonSchema {
  const values = (node.allow ?? []).filter((value) => !isReference(value));
  if (node.flags?.only) return values.length === 1 ? { const: values[0] } : { enum: values };
  if (values.length === 0 || Object.keys(base).length === 0) return base;
  const emptyFits = base.type === 'string' && base.minLength === undefined && base.pattern === undefined && base.format === undefined;
  const others = values.filter((value) => !(value === null && typeof base.type === 'string') && !(value === '' && emptyFits));
  const typed = values.includes(null) && typeof base.type === 'string' ? { ...base, type: [base.type, 'null'] } : base;
  if (others.length === 0) return typed;
  return { anyOf: [typed, others.length === 1 ? { const: others[0] } : { enum: others }] };
}

/** `when()` on a value: any of its branches (and the base when a branch may not apply). */
function withWhens(node: Described, base: JsonSchema): JsonSchema {
  if (!node.whens?.length) return base;
  // A branch of type any only adds to the base (`schema.when(…, { then: Joi.allow(null) })`).
  const branchOf = (branch: Described) => (branch.type === 'any' && Object.keys(base).length > 0 ? withAnnotations(branch, withAllowedValues(branch, base)) : convert(branch));
  const branches = node.whens.flatMap((when) => branchNodesOf(when)).map(branchOf);
  const mayFallThrough = node.whens.some((when) => !when.otherwise && !(when.switch ?? []).some((entry) => entry.otherwise));
  // An unconstrained base (Joi.any().when(…)) would swallow the branches: the branches describe it.
  const options = mayFallThrough && Object.keys(base).length > 0 ? [base, ...branches] : branches;
  return options.length ? anyOf(options) : base;
}

type Branching = { schema?: Described; then?: Described; otherwise?: Described; switch?: Array<{ then?: Described; otherwise?: Described }> };

/** The schemas a `when()` or an alternatives entry may choose between. */
function branchNodesOf(match: Branching): Described[] {
  const nodes = [match.schema, match.then, match.otherwise, ...(match.switch ?? []).flatMap((entry) => [entry.then, entry.otherwise])];
  return nodes.filter((branch): branch is Described => branch !== undefined);
}

function withAnnotations(node: Described, schema: JsonSchema): JsonSchema {
  const annotated = { ...schema };
  if (node.flags?.description) annotated.description = node.flags.description;
  const fallback = node.flags?.default;
  // A computed default (a function, `{ special: 'deep' }`) is not a value to show.
  if (fallback !== undefined && !isReference(fallback) && !(isObject(fallback) && 'special' in fallback)) annotated.default = fallback;
  return annotated;
}

/** One schema from several: itself when alone, `{}` (anything) when one of them is. */
function anyOf(schemas: JsonSchema[]): JsonSchema {
  const distinct = schemas.filter((schema, index) => schemas.findIndex((other) => JSON.stringify(other) === JSON.stringify(schema)) === index);
  if (distinct.length === 0) return {};
  if (distinct.some((schema) => Object.keys(schema).length === 0)) return {};
  return distinct.length === 1 ? distinct[0] : { anyOf: distinct };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A described reference or override marker (`{ ref: … }`, `{ override: true }`), not a literal value. */
function isReference(value: unknown): boolean {
  return isObject(value) && ('ref' in value || 'override' in value || 'special' in value);
}

function setIfDefined(schema: JsonSchema, keyword: string, value: unknown): void {
  if (value !== undefined) schema[keyword] = value;
}
