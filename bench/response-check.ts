/**
 * What checking an answer against its documented schema costs (hapi response validation, as the
 * daemon does for a sample of answers, and for every answer under CAIRN_TEST_RESPONSE_CHECK=error):
 * the largest lists the API sends, checked with the same joi schemas and options.
 *
 *   node --import tsx bench/response-check.ts [--rounds 50]
 */
import { jobSchema, listOf, runSchema } from '../src/api/openapi/index.ts';
import { median, numberOption } from './options.ts';
const job = {"id":1,"name":"Job 1","description":"","enabled":true,"source_dirs":["/tmp/a"],"destination_type":"local","destination_config":{"mount_point":"/tmp/b","backup_subdir":"","usb_uuid":null,"auto_mount":false,"auto_unmount":false},"sync_options":{"delete_extraneous":false,"exclude_patterns":[],"bandwidth_limit_kbps":null,"dry_run":false,"verbosity":"normal"},"credential_id":null,"backup_mode":"snapshots","retention":{"keep_last":0,"keep_hourly":0,"keep_daily":0,"keep_weekly":0,"keep_monthly":0,"keep_yearly":0,"keep_within":null,"keep_within_hourly":null,"keep_within_daily":null,"keep_within_weekly":null,"keep_within_monthly":null,"keep_within_yearly":null,"keep_tags":[]},"notify":{},"created_at":"2026-12-05T17:23:53.561Z","updated_at":"2026-12-05T17:23:53.561Z","snapshot_count":1,"latest_snapshot_at":"2026-12-05T17:23:53.802Z","last_run":{"id":1,"status":"completed","started_at":"2026-12-05T17:23:53.802Z","completed_at":"2026-12-05T17:23:54.348Z"},"schedules":[{"id":1,"job_id":1,"enabled":true,"schedule_type":"daily","hour":2,"minute":0,"day_of_week":null,"day_of_month":null,"cron_expression":null,"action":"backup","verify_percent":null,"next_run":"2026-12-06T02:00:00.000Z","created_at":"2026-12-05T17:23:54.391Z"}]};
const run = {"id":1,"job_id":1,"job_name":"Job 1","status":"completed","trigger":"manual","schedule_id":null,"created_at":"2026-12-05T17:23:53.723Z","started_at":"2026-12-05T17:23:53.802Z","completed_at":"2026-12-05T17:23:54.348Z","files_transferred":0,"bytes_transferred":0,"files_deleted":0,"error_message":null,"verify":null};
const jobs = Array.from({ length: 100 }, (_, i) => ({ ...job, id: i + 1 }));
const runs = Array.from({ length: 1000 }, (_, i) => ({ ...run, id: i + 1 }));
const rounds = numberOption('rounds', 50);
for (const [label, schema, value] of [['GET /jobs, 100 jobs', listOf(jobSchema), jobs], ['GET /runs?limit=1000', listOf(runSchema), runs]] as const) {
  for (let i = 0; i < 5; i++) schema.validate(value, { convert: false });
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = process.hrtime.bigint();
    if (schema.validate(value, { convert: false }).error) throw new Error(`${label}: the sample answer does not match`);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  console.log(`${label}: ${median(times).toFixed(2)} ms per answer checked (median of ${rounds})`);
}
