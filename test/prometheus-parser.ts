/**
 * A strict parser of the Prometheus text exposition format 0.0.4, written from its documentation
 * (prometheus.io/docs/instrumenting/exposition_formats), to judge what `/metrics` serves: it throws
 * on anything the format does not allow, rather than guessing.
 */

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedFamily {
  name: string;
  help: string | null;
  type: string | null;
  samples: ParsedSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
/** Go's ParseFloat forms the format allows, plus the special values. */
const VALUE = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)$/;

function fail(lineNumber: number, line: string, why: string): never {
  throw new Error(`line ${lineNumber} ${JSON.stringify(line)}: ${why}`);
}

function unescape(text: string, allowed: string, lineNumber: number, line: string): string {
  return text.replace(/\\(.)/g, (_, char: string) => {
    if (!allowed.includes(char)) fail(lineNumber, line, `bad escape \\${char}`);
    return char === 'n' ? '\n' : char;
  });
}

/** Label pairs from just after `{`; returns the labels and the rest of the line after `}`. */
function parseLabels(text: string, lineNumber: number, line: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let rest = text;
  for (;;) {
    if (rest.startsWith('}')) return { labels, rest: rest.slice(1) };
    const name = rest.match(LABEL_NAME)?.[0];
    if (!name) fail(lineNumber, line, 'expected a label name');
    if (name in labels) fail(lineNumber, line, `label ${name} twice`);
    rest = rest.slice(name.length);
    if (!rest.startsWith('="')) fail(lineNumber, line, 'expected =" after the label name');
    rest = rest.slice(2);
    let end = 0;
    while (end < rest.length && rest[end] !== '"') end += rest[end] === '\\' ? 2 : 1;
    if (end >= rest.length) fail(lineNumber, line, 'unterminated label value');
    labels[name] = unescape(rest.slice(0, end), '\\"n', lineNumber, line);
    rest = rest.slice(end + 1);
    if (rest.startsWith(',')) rest = rest.slice(1);
    else if (!rest.startsWith('}')) fail(lineNumber, line, 'expected , or } after a label value');
  }
}

/** The families of an exposition, in order; throws naming the first line that breaks the format. */
export function parsePrometheusText(text: string): ParsedFamily[] {
  if (text !== '' && !text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, ParsedFamily>();
  const seriesSeen = new Set<string>();
  let current: ParsedFamily | null = null;
  const familyFor = (name: string, lineNumber: number, line: string, fromSample: boolean): ParsedFamily => {
    // histogram and summary samples carry suffixes; this parser only needs counters and gauges.
    let family = families.get(name);
    if (!family) {
      family = { name, help: null, type: null, samples: [] };
      families.set(name, family);
    } else if (fromSample && current !== family) {
      fail(lineNumber, line, `samples of ${name} are not together`);
    }
    current = family;
    return family;
  };
  const lines = text.split('\n').slice(0, -1);
  lines.forEach((line, index) => {
    const lineNumber = index + 1;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const match = line.match(/^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/);
      if (!match) return; // a comment
      const [, keyword, name, rest = ''] = match;
      if (!METRIC_NAME.test(name) || name.match(METRIC_NAME)![0] !== name) fail(lineNumber, line, `bad metric name ${name}`);
      const family = familyFor(name, lineNumber, line, false);
      if (keyword === 'HELP') {
        if (family.help !== null) fail(lineNumber, line, `second HELP for ${name}`);
        family.help = unescape(rest, '\\n', lineNumber, line);
      } else {
        if (family.type !== null) fail(lineNumber, line, `second TYPE for ${name}`);
        if (family.samples.length > 0) fail(lineNumber, line, `TYPE for ${name} after its samples`);
        if (!TYPES.has(rest.trim())) fail(lineNumber, line, `unknown type ${rest}`);
        family.type = rest.trim();
      }
      return;
    }
    const name = line.match(METRIC_NAME)?.[0];
    if (!name) fail(lineNumber, line, 'expected a metric name');
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest.slice(1), lineNumber, line));
    const fields = rest.trim().split(/[ \t]+/);
    if (!/^[ \t]/.test(rest) || fields.length < 1 || fields.length > 2) fail(lineNumber, line, 'expected a value (and an optional timestamp)');
    if (!VALUE.test(fields[0])) fail(lineNumber, line, `bad value ${fields[0]}`);
    if (fields[1] !== undefined && !/^-?\d+$/.test(fields[1])) fail(lineNumber, line, `bad timestamp ${fields[1]}`);
    const series = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seriesSeen.has(series)) fail(lineNumber, line, 'the same series twice');
    seriesSeen.add(series);
    const value = fields[0].endsWith('Inf') ? (fields[0].startsWith('-') ? -Infinity : Infinity) : Number(fields[0]);
    const family = familyFor(name, lineNumber, line, true);
    if (family.type === 'counter' && value < 0) fail(lineNumber, line, 'a counter below zero');
    family.samples.push({ name, labels, value });
  });
  return [...families.values()];
}
