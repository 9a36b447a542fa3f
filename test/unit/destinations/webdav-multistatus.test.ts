/**
 * The WebDAV listing scanner (webdav/multistatus.ts) against fast-xml-parser, which read listings
 * before it: the same hrefs, collections and properties on answers written as Apache mod_dav,
 * Nextcloud/SabreDAV and rclone write them, and on a few hundred randomized listings (prefixes,
 * whitespace, entities, CDATA, comments, failed propstats, properties not asked for).
 */
import { XMLParser } from 'fast-xml-parser';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readMultistatus } from '../../../src/destinations/webdav/multistatus.ts';

const WANTED = new Set(['getcontentlength', 'getlastmodified', 'quota-available-bytes', 'quota-used-bytes']);

/** The reference: fast-xml-parser as webdav-store.ts configured it, and its reading of the object tree. */
function byFastXmlParser(text: string) {
  const parser = new XMLParser({ removeNSPrefix: true, ignoreAttributes: true, parseTagValue: false, isArray: (name) => name === 'response' || name === 'propstat', jPath: false });
  const multistatus = parser.parse(text)?.multistatus;
  if (multistatus === undefined || multistatus === null) return null;
  const out: Array<{ href: string; collection: boolean; props: Record<string, string> }> = [];
  for (const response of Array.isArray(multistatus.response) ? multistatus.response : []) {
    if (typeof response?.href !== 'string') continue;
    const prop: Record<string, unknown> = {};
    for (const propstat of Array.isArray(response.propstat) ? response.propstat : []) {
      const status = typeof propstat?.status === 'string' ? propstat.status : '';
      if (status && !/\s2\d\d(\s|$)/.test(status)) continue;
      if (propstat?.prop && typeof propstat.prop === 'object') Object.assign(prop, propstat.prop);
    }
    const type = prop.resourcetype;
    const props: Record<string, string> = {};
    for (const name of WANTED) if (typeof prop[name] === 'string') props[name] = (prop[name] as string).trim();
    out.push({ href: response.href.trim(), collection: typeof type === 'object' && type !== null && 'collection' in type, props });
  }
  return out;
}

function byScanner(text: string) {
  return readMultistatus(text, WANTED)?.map(({ href, collection, props }) => ({ href, collection, props: Object.fromEntries(props) })) ?? null;
}

const APACHE = `<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:" xmlns:ns0="DAV:">
<D:response xmlns:lp1="DAV:" xmlns:lp2="http://apache.org/dav/props/" xmlns:g0="DAV:">
<D:href>/dav/photos/</D:href>
<D:propstat>
<D:prop>
<lp1:resourcetype><D:collection/></lp1:resourcetype>
<lp1:getlastmodified>Sat, 05 Dec 2026 10:00:00 GMT</lp1:getlastmodified>
</D:prop>
<D:status>HTTP/1.1 200 OK</D:status>
</D:propstat>
<D:propstat>
<D:prop>
<g0:getcontentlength/>
</D:prop>
<D:status>HTTP/1.1 404 Not Found</D:status>
</D:propstat>
</D:response>
<D:response xmlns:lp1="DAV:" xmlns:lp2="http://apache.org/dav/props/">
<D:href>/dav/photos/caf%C3%A9%20%26%20co.jpg</D:href>
<D:propstat>
<D:prop>
<lp1:resourcetype/>
<lp1:getcontentlength>123456</lp1:getcontentlength>
<lp1:getlastmodified>Fri, 04 Dec 2026 09:08:07 GMT</lp1:getlastmodified>
<lp2:executable>F</lp2:executable>
</D:prop>
<D:status>HTTP/1.1 200 OK</D:status>
</D:propstat>
</D:response>
</D:multistatus>
`;

const NEXTCLOUD = `<?xml version="1.0"?>
<d:multistatus xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns" xmlns:oc="http://owncloud.org/ns" xmlns:nc="http://nextcloud.org/ns"><d:response><d:href>/remote.php/dav/files/alice/Backups/</d:href><d:propstat><d:prop><d:getlastmodified>Sun, 06 Dec 2026 07:00:00 GMT</d:getlastmodified><d:resourcetype><d:collection/></d:resourcetype><d:quota-used-bytes>1048576</d:quota-used-bytes><d:quota-available-bytes>5368709120</d:quota-available-bytes></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat><d:propstat><d:prop><d:getcontentlength/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response><d:response><d:href>/remote.php/dav/files/alice/Backups/notes%20&amp;%20todo.txt</d:href><d:propstat><d:prop><d:getlastmodified>Sun, 06 Dec 2026 06:59:59 GMT</d:getlastmodified><d:getcontentlength>42</d:getcontentlength><d:resourcetype/></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat><d:propstat><d:prop><d:quota-used-bytes/><d:quota-available-bytes/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response></d:multistatus>`;

const RCLONE = `<?xml version="1.0" encoding="UTF-8"?><D:multistatus xmlns:D="DAV:"><D:response><D:href>/backups/</D:href><D:propstat><D:prop><D:resourcetype><D:collection xmlns:D="DAV:"/></D:resourcetype><D:displayname>backups</D:displayname><D:getlastmodified>Sun, 06 Dec 2026 08:00:00 GMT</D:getlastmodified></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response><D:response><D:href>/backups/a%3Cb%3E.txt</D:href><D:propstat><D:prop><D:resourcetype></D:resourcetype><D:getcontentlength>0</D:getcontentlength><D:getlastmodified>Sun, 06 Dec 2026 08:00:01 GMT</D:getlastmodified></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`;

test('answers as Apache, Nextcloud and rclone write them read the same as with fast-xml-parser', () => {
  for (const [server, body] of Object.entries({ APACHE, NEXTCLOUD, RCLONE })) assert.equal(byScanner(body), byFastXmlParser(body), server);
  assert.equal(byScanner(APACHE)![0], { href: '/dav/photos/', collection: true, props: { getlastmodified: 'Sat, 05 Dec 2026 10:00:00 GMT' } }, "a 404 propstat's empty getcontentlength is left out");
  assert.equal(byScanner(NEXTCLOUD)![1].href, '/remote.php/dav/files/alice/Backups/notes%20&%20todo.txt');
  assert.equal(byScanner(NEXTCLOUD)![0].props['quota-available-bytes'], '5368709120');
});

test('a body with no multistatus element is not a listing; an empty multistatus lists nothing', () => {
  assert.is(readMultistatus('<html><body>Login</body></html>', WANTED), null);
  assert.is(readMultistatus('', WANTED), null);
  assert.equal(readMultistatus('<D:multistatus xmlns:D="DAV:"/>', WANTED), []);
});

test('a body cut off before its multistatus closes is no listing (fast-xml-parser refused one cut inside a tag)', () => {
  // A server that fails while it streams its answer can end the response cleanly after part of a
  // body: a listing read from it would miss files (uploaded again) or snapshots (a prune would
  // then delete the packs only they use).
  const whole = byFastXmlParser(NEXTCLOUD);
  assert.ok(whole !== null && whole.length === 2);
  for (const cut of [NEXTCLOUD.indexOf('<d:response>') + 40, NEXTCLOUD.indexOf('</d:response>') + '</d:response>'.length, NEXTCLOUD.length - 20, NEXTCLOUD.length - 1]) {
    assert.is(readMultistatus(NEXTCLOUD.slice(0, cut), WANTED), null, `cut at ${cut} of ${NEXTCLOUD.length}`);
  }
  assert.is(readMultistatus(APACHE.trimEnd().slice(0, -'</D:multistatus>'.length), WANTED), null, 'the last end tag missing');
});

test('character references are decoded (fast-xml-parser kept them as written), CDATA is text as written', () => {
  const body = '<multistatus xmlns="DAV:"><response><href>/a/caf&#233; &#x41;<![CDATA[&amp;<b>]]></href><propstat><prop><getcontentlength> 7 </getcontentlength></prop></propstat></response></multistatus>';
  assert.equal(byScanner(body), [{ href: '/a/café A&amp;<b>', collection: false, props: { getcontentlength: '7' } }]);
});

test('a response with two hrefs (the status form) or none names no entry', () => {
  const body = '<d:multistatus xmlns:d="DAV:"><d:response><d:href>/x</d:href><d:href>/y</d:href><d:status>HTTP/1.1 423 Locked</d:status></d:response><d:response><d:propstat/></d:response><d:response><d:href>/z</d:href></d:response></d:multistatus>';
  assert.equal(byScanner(body), byFastXmlParser(body));
  assert.equal(byScanner(body), [{ href: '/z', collection: false, props: {} }]);
});

test("elements of a response's names inside a property's value (a response, an href, a propstat) are not the response's", () => {
  const body = `<d:multistatus xmlns:d="DAV:" xmlns:x="urn:x"><d:response><d:href>/r/file</d:href><d:propstat><d:prop><x:links><d:response><d:href>/elsewhere</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype><d:getcontentlength>1</d:getcontentlength></d:prop></d:propstat></d:response></x:links><d:resourcetype/><d:getcontentlength>42</d:getcontentlength></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>`;
  assert.equal(byScanner(body), [{ href: '/r/file', collection: false, props: { getcontentlength: '42' } }]);
});

/** A deterministic pseudo-random source (the listings must be the same at every run). */
function randomSource(seed: number) {
  let state = seed >>> 0;
  return (below: number) => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return state % below;
  };
}

test('a few hundred randomized listings read the same as with fast-xml-parser', () => {
  const random = randomSource(17);
  const pick = <T>(items: T[]) => items[random(items.length)];
  const escape = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
  for (let listing = 0; listing < 300; listing++) {
    const prefix = pick(['D:', 'd:', 'lp1:', '']);
    const declare = prefix === '' ? ' xmlns="DAV:"' : ` xmlns:${prefix.slice(0, -1)}="DAV:"`;
    const gap = () => pick(['', '', '\n', '\n  ', ' ', '<!-- note > here -->']);
    const element = (name: string, content: string | null) =>
      content === null ? `<${prefix}${name}${pick(['', ' a="1>2"'])}/>` : `<${prefix}${name}${pick(['', ` xmlns:x='y>z'`])}>${content}</${prefix}${name}>`;
    let body = `${pick(['', '<?xml version="1.0" encoding="utf-8"?>\n'])}<${prefix}multistatus${declare}>`;
    for (let entry = random(12); entry > 0; entry--) {
      const name = Array.from({ length: 1 + random(8) }, () => pick(['a', 'Z', ' ', '&', '<', '>', "'", '"', 'é', '日', '%20', '-'])).join('');
      const collection = random(3) === 0;
      const href = random(10) === 0 ? `<![CDATA[/f/${name.replaceAll(']]>', '')}]]>` : escape(`/f/${name}${collection ? '/' : ''}`);
      const found = [
        element('resourcetype', collection ? element('collection', null) : pick([null, ''])),
        random(4) ? element('getcontentlength', `${gap()}${random(1_000_000)}${gap()}`) : '',
        random(4) ? element('getlastmodified', 'Sun, 06 Dec 2026 08:00:00 GMT') : '',
        random(3) ? element('displayname', escape(name)) : '',
        random(5) === 0 ? element('quota-used-bytes', String(random(99))) : '',
      ];
      const missing = random(2) ? `${element('propstat', `${element('prop', element(pick(['getcontentlength', 'quota-used-bytes']), null))}${element('status', 'HTTP/1.1 404 Not Found')}`)}` : '';
      const status = pick(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', '', 'HTTP/1.1 403 Forbidden']);
      const foundStat = element('propstat', `${gap()}${element('prop', found.join(gap()))}${status ? element('status', status) : ''}`);
      body += `${gap()}${element('response', `${gap()}${element('href', href)}${gap()}${pick([foundStat + missing, missing + foundStat])}${gap()}`)}`;
    }
    body += `${gap()}</${prefix}multistatus>`;
    assert.equal(byScanner(body), byFastXmlParser(body), `listing ${listing}:\n${body}`);
  }
});

test.run();
