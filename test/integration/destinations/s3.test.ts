/** The s3 destination against s3rver (with real SigV4 checks), started for this file on 127.0.0.1. */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FileHostKeyPins } from '../../../src/destinations/host-key-pins.ts';
import { tempDir } from '../../helpers.ts';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { configSchema, s3Destination } from '../../../src/destinations/s3/index.ts';
import type { S3Target } from '../../../src/destinations/s3/s3-store.ts';
import { startS3Server } from '../../servers.ts';
import { destinationContract } from './contract.ts';

let places = 0;
// The daemon silences the SDK's Node 20 notice when it first loads the SDK; this file loads it itself.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

destinationContract<S3Target>('s3', s3Destination, async () => {
  const server = await startS3Server();
  // An independent reader of the bucket: what any S3 client would find there.
  const reader = new S3Client({
    region: server.region,
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
  return {
    secret: { access_key_id: server.accessKeyId, secret_access_key: server.secretAccessKey },
    wrongSecret: { access_key_id: server.accessKeyId, secret_access_key: 'not-the-secret-key' },
    place() {
      const prefix = `backups/place-${++places}/`;
      return {
        config: { bucket: server.bucket, prefix, region: server.region, endpoint: server.endpoint, storage_class: null },
        async files() {
          const files: Record<string, string> = {};
          let token: string | undefined;
          do {
            const page = await reader.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: prefix, ContinuationToken: token }));
            for (const object of page.Contents ?? []) {
              const body = await reader.send(new GetObjectCommand({ Bucket: server.bucket, Key: object.Key! }));
              files[object.Key!.slice(prefix.length)] = createHash('sha256').update(await body.Body!.transformToByteArray()).digest('hex');
            }
            token = page.IsTruncated ? page.NextContinuationToken : undefined;
          } while (token);
          return files;
        },
      };
    },
    stop: () => server.stop(),
  };
});

const s3Errors = suite('s3 errors');
s3Errors('a missing bucket and a refused endpoint are named, without the secret', async () => {
  const server = await startS3Server();
  try {
    const hostKeys = new FileHostKeyPins(path.join(tempDir(), 'host-keys.json'));
    const secret = { access_key_id: server.accessKeyId, secret_access_key: server.secretAccessKey };
    const config = { bucket: 'no-such-bucket', prefix: '', region: server.region, endpoint: server.endpoint, storage_class: null };
    const missing = await s3Destination.test(config, secret, hostKeys).catch((error) => error);
    assert.is(missing.code, 'REMOTE_PATH_MISSING');
    assert.is(missing.message, `The bucket "no-such-bucket" does not exist at ${server.endpoint}`);
    const refused = await s3Destination.test({ ...config, endpoint: 'http://127.0.0.1:1' }, secret, hostKeys).catch((error) => error);
    assert.is(refused.code, 'DESTINATION_UNREACHABLE');
    assert.not.match(refused.message, /S3RVER/);
    assert.ok(configSchema.validate({ bucket: 'abc', endpoint: 'http://key:secret@minio:9000' }).error, 'no credentials in the endpoint');
  } finally {
    await server.stop();
  }
});
s3Errors.run();
