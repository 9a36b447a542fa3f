/**
 * A WebDAV multistatus body (the 207 answer to PROPFIND) read for what Cairn uses: each response's
 * href, whether it is a collection, and the text of the properties asked for, from the propstats
 * whose status is 2xx (or says none). A scanner over the text rather than a general XML parser: a
 * no-change run lists every folder of the tree, and fast-xml-parser's object tree per listing was a
 * sixth of the daemon's CPU in such a run, and most of its garbage (issue 17).
 *
 * Read as fast-xml-parser read it before (the unit test compares both on servers' real answers):
 * elements by local name whatever their namespace prefix (d:, D:, lp1:, none), attributes ignored,
 * text trimmed, the five XML entities and character references decoded, CDATA taken as text,
 * comments, processing instructions and DOCTYPE skipped. Not a validator: malformed input gives
 * what could be read, but a body with no multistatus element, or whose multistatus never closes (cut
 * off: a server failing while it streams its answer), gives null, as fast-xml-parser refused it.
 */

import { decodeXmlText } from '../remote/xml-text.ts';

export interface MultistatusResponse {
  href: string;
  /** A `collection` element in the resourcetype of a 2xx propstat. */
  collection: boolean;
  /** Trimmed text of each wanted property found in a 2xx propstat ('' for an empty element). */
  props: Map<string, string>;
}

/** The local name of a tag name (`D:href` → `href`). */
function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
}

/** Where a start tag ends: the `>` after its name, not one inside a quoted attribute value. */
function tagEnd(text: string, from: number): number {
  let quote = '';
  for (let i = from; i < text.length; i++) {
    const char = text[i];
    if (quote) {
      if (char === quote) quote = '';
    } else if (char === '"' || char === "'") quote = char;
    else if (char === '>') return i;
  }
  return -1;
}

const IS_2XX = /\s2\d\d(\s|$)/;

/**
 * The responses of a multistatus body, in order, with the properties named in `wanted` (local
 * names); null when the body has no multistatus element or it does not close.
 */
export function readMultistatus(text: string, wanted: ReadonlySet<string>): MultistatusResponse[] | null {
  const responses: MultistatusResponse[] = [];
  const stack: string[] = [];
  let sawMultistatus = false;
  // A listing cut short would miss entries: only a multistatus that closes is read.
  let closedMultistatus = false;
  // The response and propstat being read; the element whose text is being gathered.
  let response: { href: string | null; hrefs: number; collection: boolean; props: Map<string, string> } | null = null;
  let propstat: { status: string; collection: boolean; props: Map<string, string> } | null = null;
  let capturing: string | null = null;
  let captured = '';

  const parent = () => stack[stack.length - 1];
  const capture = (name: string) => {
    capturing = name;
    captured = '';
  };
  // Each element is read only at its place in the body (multistatus/response/propstat/prop/…, by
  // depth): a property's value may hold elements of the same names (a response, an href).
  const open = (name: string) => {
    const inside = parent();
    if (name === 'multistatus' && stack.length === 0) sawMultistatus = true;
    else if (name === 'response' && inside === 'multistatus' && stack.length === 1) response = { href: null, hrefs: 0, collection: false, props: new Map() };
    else if (response && name === 'href' && inside === 'response' && stack.length === 2) capture('href');
    else if (response && name === 'propstat' && inside === 'response' && stack.length === 2) propstat = { status: '', collection: false, props: new Map() };
    else if (propstat && name === 'status' && inside === 'propstat' && stack.length === 3) capture('status');
    else if (propstat && inside === 'prop' && stack.length === 4 && wanted.has(name)) capture(name);
    else if (propstat && name === 'collection' && inside === 'resourcetype' && stack.length === 5) propstat.collection = true;
  };
  const close = (name: string) => {
    if (capturing === name) {
      const value = decodeXmlText(captured).trim();
      if (name === 'href' && response) {
        response.href = value;
        response.hrefs++;
      } else if (name === 'status' && propstat) propstat.status = value;
      else if (propstat) propstat.props.set(name, value);
      capturing = null;
    } else if (name === 'propstat' && propstat && response && stack.length === 2) {
      if (!propstat.status || IS_2XX.test(propstat.status)) {
        for (const [key, value] of propstat.props) response.props.set(key, value);
        response.collection ||= propstat.collection;
      }
      propstat = null;
    } else if (name === 'multistatus' && stack.length === 0 && sawMultistatus) {
      closedMultistatus = true;
    } else if (name === 'response' && response && stack.length === 1) {
      // A response with no href, or several (the status form of a response), names no one entry.
      if (response.href !== null && response.hrefs === 1) responses.push({ href: response.href, collection: response.collection, props: response.props });
      response = null;
    }
  };

  let at = 0;
  while (at < text.length) {
    const lt = text.indexOf('<', at);
    if (lt < 0) break;
    if (capturing !== null && lt > at) captured += text.slice(at, lt);
    if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt + 4);
      at = end < 0 ? text.length : end + 3;
    } else if (text.startsWith('<![CDATA[', lt)) {
      const end = text.indexOf(']]>', lt + 9);
      // CDATA is text as written: escaped so that decodeXmlText() gives it back unchanged.
      if (capturing !== null) captured += text.slice(lt + 9, end < 0 ? text.length : end).replaceAll('&', '&amp;');
      at = end < 0 ? text.length : end + 3;
    } else if (text[lt + 1] === '?' || text[lt + 1] === '!') {
      const end = text[lt + 1] === '?' ? text.indexOf('?>', lt + 2) : tagEnd(text, lt + 2);
      at = end < 0 ? text.length : end + (text[lt + 1] === '?' ? 2 : 1);
    } else if (text[lt + 1] === '/') {
      const end = text.indexOf('>', lt + 2);
      if (end < 0) break;
      const name = localName(text.slice(lt + 2, end).trim());
      // Closes the innermost open element of that name (a stray end tag closes nothing).
      const index = stack.lastIndexOf(name);
      if (index >= 0) {
        while (stack.length > index + 1) close(stack.pop()!);
        stack.pop();
        close(name);
      }
      at = end + 1;
    } else {
      const end = tagEnd(text, lt + 1);
      if (end < 0) break;
      const selfClosing = text[end - 1] === '/';
      const inner = text.slice(lt + 1, selfClosing ? end - 1 : end);
      const space = inner.search(/[\s/]/);
      const name = localName(space < 0 ? inner : inner.slice(0, space));
      open(name);
      stack.push(name);
      if (selfClosing) {
        stack.pop();
        close(name);
      }
      at = end + 1;
    }
  }
  return sawMultistatus && closedMultistatus ? responses : null;
}
