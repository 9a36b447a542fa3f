/** The store: one database file with a repository per resource. */
import { openDatabase, type Database } from './database.ts';
import { ApiKeyRepository } from './api-keys.ts';
import { CredentialRepository } from './credentials.ts';
import { JobRepository, RunRepository, ScheduleRepository } from './jobs.ts';
import { AlertHistoryRepository, AlertStateRepository, ChannelRepository } from './notifications.ts';
import { SessionRepository, SettingsRepository, UserRepository } from './repositories.ts';
import { SnapshotTallyRepository } from './snapshot-tallies.ts';
import { RunStatsRepository } from './run-stats.ts';

export { StoreUnavailableError, clearBlockedDatabase, DATABASE_FILE } from './database.ts';
export type { ApiKeyRecord, SessionRecord, SnapshotTally, UserRecord } from './database.ts';
export type { ApiKeyRepository, NewApiKey } from './api-keys.ts';
export { writeFileDurably, loadOrCreateKeyFile, syncDirectory } from './durable-file.ts';
export type { UserRepository, SessionRepository, SettingsRepository } from './repositories.ts';
export type { JobRepository, RunRepository, ScheduleRepository, NewRun } from './jobs.ts';
export type { CredentialRepository } from './credentials.ts';
export type { AlertHistoryRepository, AlertStateRepository, ChannelRepository } from './notifications.ts';
export { ALERT_HISTORY_LIMIT } from './notifications.ts';
export type { SnapshotTallyRepository } from './snapshot-tallies.ts';
export type { RunStatsRepository } from './run-stats.ts';

export interface Store {
  users: UserRepository;
  sessions: SessionRepository;
  settings: SettingsRepository;
  jobs: JobRepository;
  schedules: ScheduleRepository;
  runs: RunRepository;
  credentials: CredentialRepository;
  channels: ChannelRepository;
  alertHistory: AlertHistoryRepository;
  alertStates: AlertStateRepository;
  snapshotTallies: SnapshotTallyRepository;
  apiKeys: ApiKeyRepository;
  runStats: RunStatsRepository;
  /** Waits for pending writes. */
  close(): Promise<void>;
}

/** Opens the store in `dataDir`; throws StoreUnavailableError when the owner must decide something first. */
export async function openStore(dataDir: string): Promise<Store> {
  const db: Database = await openDatabase(dataDir);
  return {
    users: new UserRepository(db),
    sessions: new SessionRepository(db),
    settings: new SettingsRepository(db),
    jobs: new JobRepository(db),
    schedules: new ScheduleRepository(db),
    runs: new RunRepository(db),
    credentials: new CredentialRepository(db),
    channels: new ChannelRepository(db),
    alertHistory: new AlertHistoryRepository(db),
    alertStates: new AlertStateRepository(db),
    snapshotTallies: new SnapshotTallyRepository(db),
    apiKeys: new ApiKeyRepository(db),
    runStats: new RunStatsRepository(db),
    close: () => db.write(),
  };
}
