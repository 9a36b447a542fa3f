/** The S3 client's signing and its reading of S3's XML answers. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { canonicalQuery, EMPTY_PAYLOAD_HASH, encodeSegment, Signer } from '../../../src/destinations/s3/sigv4.ts';
import { awsEndpoint } from '../../../src/destinations/s3/s3-connection.ts';
import { partBytesFor } from '../../../src/destinations/s3/s3-store.ts';
import { completeUploadBody, readErrorBody, readListingPage, readUploadId } from '../../../src/destinations/s3/s3-xml.ts';

const signing = suite('s3 signing');

signing("AWS's published example (GET /test.txt with a Range) signs to the documented signature", () => {
  const signer = new Signer({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }, 'us-east-1');
  const added = signer.sign(
    { method: 'GET', path: '/test.txt', query: [], headers: { host: 'examplebucket.s3.amazonaws.com', range: 'bytes=0-9' }, payloadHash: EMPTY_PAYLOAD_HASH },
    new Date(Date.UTC(2013, 4, 24)),
  );
  assert.is(added['x-amz-date'], '20130524T000000Z');
  assert.is(
    added.authorization,
    'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
  );
});

signing('a session token is sent and signed', () => {
  const signer = new Signer({ accessKeyId: 'A', secretAccessKey: 'S', sessionToken: 'T' }, 'eu-west-1');
  const added = signer.sign({ method: 'GET', path: '/', query: [], headers: { host: 'h' }, payloadHash: EMPTY_PAYLOAD_HASH });
  assert.is(added['x-amz-security-token'], 'T');
  assert.match(added.authorization, /SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,/);
});

signing('names and values are encoded as RFC 3986 wants and sorted by name, then value', () => {
  assert.is(encodeSegment("a b+c!'()*~é/"), 'a%20b%2Bc%21%27%28%29%2A~%C3%A9%2F');
  assert.is(
    canonicalQuery([
      ['prefix', 'photos/2024 summer/'],
      ['list-type', '2'],
      ['uploads', ''],
      ['continuation-token', 'a+b=='],
    ]),
    'continuation-token=a%2Bb%3D%3D&list-type=2&prefix=photos%2F2024%20summer%2F&uploads=',
  );
});

signing("AWS's endpoint for a region, China's partition included", () => {
  assert.is(awsEndpoint('eu-west-1'), 'https://s3.eu-west-1.amazonaws.com');
  assert.is(awsEndpoint('us-gov-west-1'), 'https://s3.us-gov-west-1.amazonaws.com');
  assert.is(awsEndpoint('cn-north-1'), 'https://s3.cn-north-1.amazonaws.com.cn');
  assert.is(awsEndpoint('cn-northwest-1'), 'https://s3.cn-northwest-1.amazonaws.com.cn');
});

signing('multipart parts are 8 MiB up to 80 GiB, then just large enough for S3\'s 10,000 parts', () => {
  const MiB = 1024 * 1024;
  assert.is(partBytesFor(20 * MiB), 8 * MiB);
  assert.is(partBytesFor(10_000 * 8 * MiB), 8 * MiB);
  for (const size of [10_000 * 8 * MiB + 1, 100 * 1024 * MiB, 5 * 1024 * 1024 * MiB]) {
    const part = partBytesFor(size);
    assert.ok(Math.ceil(size / part) <= 10_000, `${size} bytes in ${Math.ceil(size / part)} parts`);
    assert.is(part % MiB, 0);
  }
});

signing.run();

const xml = suite('s3 xml');

const page = (contents: string, tail = '<IsTruncated>false</IsTruncated>') =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys>${tail}${contents}</ListBucketResult>`;
const object = (key: string, size: number) => `<Contents><Key>${key}</Key><LastModified>2026-12-06T10:00:00.000Z</LastModified><ETag>&quot;x&quot;</ETag><Size>${size}</Size><Owner><ID>o</ID></Owner><StorageClass>STANDARD</StorageClass></Contents>`;

xml('a listing page: keys decoded (entities, character references), sizes, and the next token when truncated', () => {
  assert.equal(readListingPage(page(object('p/a &amp; b.txt', 3) + object('p/caf&#xE9;&#13;', 0))), {
    objects: [
      { key: 'p/a & b.txt', size: 3 },
      { key: 'p/café\r', size: 0 },
    ],
    next: null,
  });
  assert.equal(readListingPage(page(object('p/a', 1), '<IsTruncated>true</IsTruncated><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>'))?.next, '1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=');
  assert.equal(readListingPage(page(''))?.objects, []);
});

xml('keys are URL-decoded only when the page says it encoded them', () => {
  assert.equal(readListingPage(page(object('p/100%25%20sure', 1), '<EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>'))?.objects, [{ key: 'p/100% sure', size: 1 }]);
  assert.equal(readListingPage(page(object('p/100%25', 1)))?.objects, [{ key: 'p/100%25', size: 1 }]);
  // AWS and MinIO write a space as + (form encoding), and a + of the key as %2B.
  assert.equal(readListingPage(page(object('p/run+books/a+b%2Bc.txt', 1), '<EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>'))?.objects, [{ key: 'p/run books/a b+c.txt', size: 1 }]);
  assert.equal(readListingPage(page(object('p/a+b', 1)))?.objects, [{ key: 'p/a+b', size: 1 }], 'not decoded when the page does not say it encoded');
  assert.is(readListingPage(page(object('p/%E9%ZZ', 1), '<EncodingType>url</EncodingType>')), null, 'not valid percent-encoding');
});

xml('a page that is not whole is refused: cut off, an object without its key or size, truncated without a token, an error', () => {
  const whole = page(object('p/a', 1) + object('p/b', 2));
  for (let cut = 1; cut < whole.length; cut += 7) assert.is(readListingPage(whole.slice(0, cut)), null, `cut at ${cut}`);
  assert.is(readListingPage(page('<Contents><Size>1</Size></Contents>')), null);
  assert.is(readListingPage(page('<Contents><Key>p/a</Key><Size>-1</Size></Contents>')), null);
  assert.is(readListingPage(page(object('p/a', 1), '<IsTruncated>true</IsTruncated>')), null);
  assert.is(readListingPage(page(object('p/a', 1), '<IsTruncated>1</IsTruncated><NextContinuationToken>t</NextContinuationToken>')), null, 'a truncation flag not understood');
  assert.is(readListingPage(page(object('p/a', 1), '<IsTruncated>\n  True\n</IsTruncated><NextContinuationToken>t</NextContinuationToken>'))?.next, 't');
  assert.is(readListingPage('<Error><Code>InternalError</Code></Error>'), null);
});

xml('an error body gives its code, message and region; other bodies give null', () => {
  assert.equal(readErrorBody('<?xml version="1.0"?><Error><Code>PermanentRedirect</Code><Message>Use the &quot;right&quot; endpoint.</Message><Region>eu-west-1</Region></Error>'), {
    code: 'PermanentRedirect',
    message: 'Use the "right" endpoint.',
    region: 'eu-west-1',
  });
  assert.is(readErrorBody('<CompleteMultipartUploadResult><ETag>x</ETag></CompleteMultipartUploadResult>'), null);
  assert.is(readErrorBody(''), null);
});

xml("a multipart upload's id is read, and its part list written with the ETags escaped", () => {
  assert.is(readUploadId('<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>VXBsb2FkIElE</UploadId></InitiateMultipartUploadResult>'), 'VXBsb2FkIElE');
  assert.is(readUploadId('<Error><UploadId>x</UploadId></Error>'), null);
  assert.is(
    completeUploadBody(['"a1"', '"b2"']),
    '<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><PartNumber>1</PartNumber><ETag>&#34;a1&#34;</ETag></Part><Part><PartNumber>2</PartNumber><ETag>&#34;b2&#34;</ETag></Part></CompleteMultipartUpload>',
  );
});

xml.run();
