/**
 * What hapi does with an answer that does not match the schema its route documents: in production
 * (`log`) the client still gets it and the daemon's log names the route and the mismatch; under
 * `error` (the test mode) it becomes a 500, so a suite run that way catches every mismatch.
 */
import Hapi from '@hapi/hapi';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { answers, jobSchema, LOGGED_CHECK_PERCENT, responseCheckOptions, runStartedSchema, type ResponseCheck } from '../../../src/api/openapi/index.ts';
import { createMemoryLogger } from '../../../src/log.ts';

const check = suite('response check');

/** A real hapi server with one route that answers a job without most of its fields. */
async function serverWith(mode: ResponseCheck, samplePercent = 100) {
  const log = createMemoryLogger();
  const server = Hapi.server({ routes: { response: responseCheckOptions(mode, log, samplePercent) } });
  server.route({ method: 'GET', path: '/api/jobs/{id}', options: answers(200, jobSchema), handler: () => ({ id: '7', name: 'half a job' }) });
  server.route({ method: 'POST', path: '/api/jobs/{id}/run', options: answers(200, runStartedSchema), handler: (request) => ({ run_id: request.query.as_text ? '3' : 3, message: 'Job started' }) });
  await server.initialize();
  return { server, log };
}

check('in production a mismatching answer is sent and logged with its route', async () => {
  const { server, log } = await serverWith('log');
  const response = await server.inject('/api/jobs/7');
  assert.is(response.statusCode, 200);
  assert.equal(JSON.parse(response.payload), { id: '7', name: 'half a job' });
  const warning = log.lines.find((line) => line.includes('does not match its documented schema'));
  assert.ok(warning, log.lines.join('\n'));
  assert.match(warning, '/api/jobs/{id}');
  assert.match(warning, /id\\?" must be a number/);
  await server.stop();
});

check('in the test mode a mismatching answer is a 500', async () => {
  const { server, log } = await serverWith('error');
  const response = await server.inject('/api/jobs/7');
  assert.is(response.statusCode, 500);
  assert.not.ok(log.lines.some((line) => line.includes('does not match')));
  await server.stop();
});

check('a matching answer passes; a number sent as text does not (answers are not coerced)', async () => {
  const { server } = await serverWith('error');
  const good = await server.inject({ method: 'POST', url: '/api/jobs/7/run' });
  assert.is(good.statusCode, 200);
  assert.equal(JSON.parse(good.payload), { run_id: 3, message: 'Job started' });
  const asText = await server.inject({ method: 'POST', url: '/api/jobs/7/run?as_text=1' });
  assert.is(asText.statusCode, 500);
  await server.stop();
});

check('in production only a sample of answers is checked, in the test mode every one', async () => {
  const { server, log } = await serverWith('log', LOGGED_CHECK_PERCENT);
  for (let i = 0; i < 400; i++) await server.inject('/api/jobs/7');
  const warnings = log.lines.filter((line) => line.includes('does not match')).length;
  // 5 % of 400 is 20; the bounds are loose enough never to fail by chance (p < 1e-6).
  assert.ok(warnings >= 3 && warnings <= 50, `${warnings} of 400 answers checked`);
  const strict = await serverWith('error', LOGGED_CHECK_PERCENT);
  for (let i = 0; i < 20; i++) assert.is((await strict.server.inject('/api/jobs/7')).statusCode, 500);
  await server.stop();
  await strict.server.stop();
});

check.run();
