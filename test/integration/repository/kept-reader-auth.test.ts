/**
 * The kept reader (the API's history reads) does not keep a refused credential: once the server
 * accepts it again (fixed on the server's side, the same credential in Cairn), the next read asks
 * the server instead of answering the old refusal. The server is a plain HTTP one that answers as a
 * WebDAV server does: 401 while the credential is refused, then 404 (no repository there yet).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { JobRecord } from '../../../src/domain/jobs.ts';
import { RepositoryRunner } from '../../../src/runs/repository-runs.ts';

test('a read refused for its credential is asked again of the server at the next read', async () => {
  let requests = 0;
  let status = 401;
  const server = http.createServer((_request, response) => {
    requests++;
    response.statusCode = status;
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const runner = new RepositoryRunner({
    secretOf: async () => ({ username: 'owner', password: 'nas password' }),
    passwordOf: () => 'repository password',
    hostKeys: { check: async () => 'matched' } as never,
  } as never);
  const job = { id: 1, destination_type: 'webdav', destination_config: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/dav`, remote_path: 'repo' }, retention: {} } as unknown as JobRecord;
  try {
    const refused = await runner.list(job).catch((error) => error);
    assert.is(refused.code, 'AUTHENTICATION_FAILED');
    status = 404;
    const before = requests;
    const after = await runner.list(job).catch((error) => error);
    assert.ok(requests > before, 'the second read reached the server');
    assert.is.not(after.code, 'AUTHENTICATION_FAILED', `the fixed server's answer, not the old refusal (${after.code})`);
  } finally {
    await runner.stop();
    server.close();
  }
});

test.run();
