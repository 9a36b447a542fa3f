/**
 * A snapshots job's history: its snapshots (time in the settings' zone, files, size, bytes added,
 * the rules that keep each), a snapshot's folders page by page, restore from one, delete one, the
 * keep policy edited with its preview shown before it is saved, and a verify followed to its result.
 * At rest it asks the daemon for nothing: the list is fetched when the screen opens, after an action,
 * and on the status socket's snapshot events; a verify's progress comes from that socket too.
 */
import blessed from 'blessed';
import { ApiError, type TuiApi } from '../api.ts';
import { bindKeys, footerFor, helpText, type ActionHandlers, type SnapshotsAction } from '../keys.ts';
import { singleFlight } from '../pacing.ts';
import { plain, tagged, type Paint } from '../present/paint.ts';
import { parseRetentionText, RETENTION_HELP, RetentionTextError, retentionText } from '../present/retention.ts';
import { childPath, localTime, parentPath, previewLines, SNAPSHOT_HEADER, snapshotLine, snapshotsTitle, treeLines, treeTitle, verifyStatusText } from '../present/snapshots.ts';
import type { Job, RetentionPolicy, RetentionPreview, RunStatus, Snapshot, StatusMessage, TreePage, VerifyFigures } from '../wire.ts';
import { runForm } from './form.ts';
import { showLog } from './log-view.ts';
import { showRecoveryKit } from './recovery-kit.ts';
import { restoreJob } from './restore-form.ts';

/** Subscribes to the status socket's messages; returns the unsubscribe. */
export type StatusListen = (listener: (message: StatusMessage) => void) => () => void;

/** Shows `job`'s snapshots until the owner goes back. */
export async function showSnapshots(screen: blessed.Widgets.Screen, api: TuiApi, job: Job, color: boolean, listen: StatusListen): Promise<void> {
  await new SnapshotsScreen(screen, api, job, color).show(listen);
}

/** Entries asked per page of a folder. */
const TREE_PAGE = 200;

/** Work done after the key press that asked for it is handled, so the key does not land in what it opens. */
const afterThisKey = () => new Promise((resolve) => setImmediate(resolve));

/** The verify started from this screen, as the status socket tells it. */
interface VerifyState {
  run_id: number;
  status: RunStatus;
  verify: VerifyFigures | null;
  error_message: string | null;
}

/** What the list shows: the snapshots, or one page of a folder in one of them. */
type View = { kind: 'snapshots' } | { kind: 'tree'; snapshot: Snapshot; page: TreePage };

/** A row of the folder view: an entry, or the row that turns the page. */
type TreeRow = { kind: 'entry'; index: number } | { kind: 'previous' } | { kind: 'more' };

class SnapshotsScreen {
  private readonly paint: Paint;
  private readonly title: blessed.Widgets.BoxElement;
  private readonly list: blessed.Widgets.ListElement;
  private readonly status: blessed.Widgets.BoxElement;
  private readonly footer: blessed.Widgets.BoxElement;

  private snapshots: Snapshot[] = [];
  private total = 0;
  private loaded = false;
  /** Why the list could not be read (the drive is away …), shown in its place until a read works. */
  private loadError = '';
  private timezone = 'UTC';
  private policy: RetentionPolicy;
  private view: View = { kind: 'snapshots' };
  private rows: TreeRow[] = [];
  private verifying: VerifyState | null = null;
  /** Verify frames that came before the answer naming their run (a small snapshot verifies fast). */
  private readonly early = new Map<number, VerifyState>();
  private notice = '';
  private readonly loadSnapshots: () => Promise<void>;

  constructor(
    private readonly screen: blessed.Widgets.Screen,
    private readonly api: TuiApi,
    private readonly job: Job,
    private readonly color: boolean,
  ) {
    this.paint = color ? tagged : plain;
    this.policy = job.retention;
    this.title = blessed.box({ parent: screen, top: 0, left: 0, width: '100%', height: 1, tags: true });
    this.list = blessed.list({
      parent: screen,
      top: 1,
      left: 0,
      width: '100%',
      height: '100%-4',
      border: 'line',
      keys: true,
      vi: true,
      mouse: true,
      tags: true,
      style: color ? { selected: { bg: 'blue' } } : { selected: { inverse: true } },
    });
    this.status = blessed.box({ parent: screen, bottom: 1, left: 0, width: '100%', height: 2, tags: true });
    this.footer = blessed.box({ parent: screen, bottom: 0, left: 0, width: '100%', height: 1, content: footerFor('snapshots') });
    this.loadSnapshots = singleFlight(async () => {
      try {
        const answer = await this.api.snapshots(this.job.id);
        this.snapshots = answer.snapshots;
        this.total = answer.total;
        this.loaded = true;
        this.loadError = '';
      } catch (error) {
        this.loadError = this.errorText(error);
      }
      this.draw();
    });
  }

  async show(listen: StatusListen): Promise<void> {
    const unsubscribe = listen((message) => this.onStatus(message));
    this.list.focus();
    this.draw();
    // Asked once: snapshot times are shown in the settings' zone.
    void this.api
      .settings()
      .then((settings) => {
        this.timezone = settings.timezone;
        this.draw();
      })
      .catch(() => undefined);
    void this.loadSnapshots();
    try {
      await new Promise<void>((leave) => {
        bindKeys(this.list, this.handlers(leave), (reason) => this.say(reason));
      });
    } finally {
      unsubscribe();
      for (const element of [this.title, this.list, this.status, this.footer]) element.destroy();
      this.screen.render();
    }
  }

  // ── what the keys do ────────────────────────────────────────────────────────────────────────

  private handlers(leave: () => void): ActionHandlers<SnapshotsAction> {
    const inList = () => (this.view.kind === 'snapshots' ? null : 'leave the folder view first (Esc)');
    const snapshotHere = () => (this.current() ? null : 'no snapshot selected');
    return {
      browse: { disabledReason: () => (this.view.kind === 'snapshots' ? snapshotHere() : null), handle: () => this.browse() },
      'restore-snapshot': { disabledReason: snapshotHere, handle: () => this.restore() },
      'delete-snapshot': { disabledReason: () => inList() ?? snapshotHere(), handle: () => this.later(() => this.deleteSnapshot(this.current()!)) },
      retention: { handle: () => this.later(() => this.editRetention()) },
      verify: {
        disabledReason: () => snapshotHere() ?? (this.verifying && ['pending', 'running'].includes(this.verifying.status) ? 'a verify is running' : null),
        handle: () => this.later(() => this.startVerify(this.current()!)),
      },
      'verify-log': { disabledReason: () => (this.verifying ? null : 'no verify started here yet: v starts one'), handle: () => this.later(() => this.openVerifyLog()) },
      'recovery-kit': {
        disabledReason: () => (this.job.backup_mode === 'repository' ? null : 'only a repository job has a recovery kit'),
        handle: () => this.later(() => showRecoveryKit(this.screen, this.api, this.job.id)),
      },
      back: { handle: () => this.back(leave) },
      help: { handle: () => this.showHelp() },
    };
  }

  /** The snapshot selected in the list, or the one being browsed. */
  private current(): Snapshot | undefined {
    return this.view.kind === 'tree' ? this.view.snapshot : this.snapshots[this.selected()];
  }

  private selected(): number {
    return (this.list as unknown as { selected: number }).selected ?? 0;
  }

  /** Runs an overlay after this key press, then takes the keys back. */
  private later(work: () => Promise<void>): void {
    void afterThisKey()
      .then(work)
      .catch((error: unknown) => {
        this.notice = this.errorText(error);
      })
      .then(() => {
        this.list.focus();
        this.draw();
      });
  }

  private browse(): void {
    if (this.view.kind === 'snapshots') return void this.openFolder(this.current()!, '', 0);
    const { snapshot, page } = this.view;
    const row = this.rows[this.selected()];
    if (!row) return;
    if (row.kind === 'previous') return void this.openFolder(snapshot, page.path, Math.max(0, page.offset - TREE_PAGE));
    if (row.kind === 'more') return void this.openFolder(snapshot, page.path, page.offset + TREE_PAGE);
    const entry = page.entries[row.index];
    if (entry.type === 'dir') return void this.openFolder(snapshot, childPath(page.path, entry.name), 0);
    this.say(`${entry.name} is not a folder: R restores it`);
  }

  /** One page of a folder in `snapshot`; the view changes when it has arrived. */
  private async openFolder(snapshot: Snapshot, path: string, offset: number, select = 0): Promise<void> {
    try {
      const page = await this.api.snapshotTree(this.job.id, snapshot.id, path, offset, TREE_PAGE);
      this.view = { kind: 'tree', snapshot, page };
      this.notice = '';
      this.draw(select);
    } catch (error) {
      this.say(this.errorText(error));
    }
  }

  private back(leave: () => void): void {
    if (this.view.kind === 'snapshots') return leave();
    const { snapshot, page } = this.view;
    const top = page.path.replace(/^\.?\/*/, '').replace(/\/$/, '') === '';
    if (!top) return void this.openFolder(snapshot, parentPath(page.path), 0);
    this.view = { kind: 'snapshots' };
    this.draw(Math.max(0, this.snapshots.findIndex((candidate) => candidate.id === snapshot.id)));
  }

  /** The restore form for the current snapshot; in a folder, the selected entry (or the folder) is offered as the path. */
  private restore(): void {
    const snapshot = this.current()!;
    let paths: string[] = [];
    if (this.view.kind === 'tree') {
      const row = this.rows[this.selected()];
      const { page } = this.view;
      const here = page.path.replace(/^\.?\/*/, '').replace(/\/$/, '');
      paths = row?.kind === 'entry' ? [childPath(here, page.entries[row.index].name)] : here === '' ? [] : [here];
    }
    const label = localTime(snapshot.time, this.timezone);
    this.later(async () => {
      const said = await restoreJob(this.screen, this.api, this.job, this.color, { snapshotId: snapshot.id, label, paths });
      if (said) this.notice = said;
    });
  }

  private async deleteSnapshot(snapshot: Snapshot): Promise<void> {
    const label = localTime(snapshot.time, this.timezone);
    if (!(await this.confirm(' Delete ', [`Delete the snapshot of ${label} (${snapshot.id})?`, 'Its files are removed from the drive; other snapshots keep theirs.'], 'y: delete  ·  n or Esc: keep it'))) return;
    await this.api.deleteSnapshot(this.job.id, snapshot.id);
    this.notice = `deleted the snapshot of ${label}`;
    await this.loadSnapshots();
  }

  /** The keep policy as one line; what it would keep and remove is shown, and only a yes saves it. */
  private async editRetention(): Promise<void> {
    const tried = await runForm(
      this.screen,
      {
        title: `Keep policy of ${this.job.name}`,
        fields: [{ key: 'retention', label: 'Keep', value: retentionText(this.policy), help: RETENTION_HELP }],
        submit: async (values): Promise<{ policy: RetentionPolicy; preview: RetentionPreview }> => {
          let policy: RetentionPolicy;
          try {
            policy = parseRetentionText(values.retention);
          } catch (error) {
            if (error instanceof RetentionTextError) throw new ApiError(400, 'FORM', error.message);
            throw error;
          }
          return { policy, preview: await this.api.previewRetention(this.job.id, policy) };
        },
        fieldOfError: () => 'retention',
      },
      this.color,
    );
    if (!tried) return;
    const lines = previewLines(tried.preview, this.timezone, this.paint);
    const text = retentionText(tried.policy) || 'everything (no policy)';
    if (!(await this.confirm(' Keep policy preview ', [blessed.escape(`keep: ${text}`), ...lines], 'y: save this policy  ·  n or Esc: leave it as it was'))) {
      this.notice = 'keep policy unchanged';
      return;
    }
    this.policy = await this.api.saveRetention(this.job.id, tried.policy);
    this.notice = 'keep policy saved: it prunes after each backup';
    await this.loadSnapshots();
  }

  private async startVerify(snapshot: Snapshot): Promise<void> {
    const label = localTime(snapshot.time, this.timezone);
    const started = await runForm(
      this.screen,
      {
        title: `Verify the snapshot of ${label}`,
        fields: [{ key: 'percent', label: 'Percent', value: '100', help: 'How much of the snapshot to re-read from the drive and compare with its checksums: 100 reads every file, less picks files at random.' }],
        // Not a number: sent as typed, so the API's message names the field.
        submit: (values) => this.api.verify(this.job.id, { snapshot_id: snapshot.id, percent: (/^\d+$/.test(values.percent.trim()) ? Number(values.percent) : values.percent.trim()) as number }),
        fieldOfError: () => 'percent',
      },
      this.color,
    );
    if (!started) return;
    this.verifying = this.early.get(started.run_id) ?? { run_id: started.run_id, status: 'running', verify: null, error_message: null };
    this.early.clear();
  }

  private async openVerifyLog(): Promise<void> {
    const elements = [this.title, this.list, this.status, this.footer];
    for (const element of elements) element.hide();
    try {
      await showLog(this.screen, this.api, { id: this.verifying!.run_id, job_name: this.job.name }, this.color);
    } finally {
      for (const element of elements) element.show();
    }
  }

  /** A question over the screen: resolves true for y, false for n or Esc. */
  private confirm(label: string, lines: string[], question: string): Promise<boolean> {
    const height = Math.min(lines.length + 4, Math.max(6, Number(this.screen.height) - 2));
    const box = blessed.box({
      parent: this.screen,
      top: 'center',
      left: 'center',
      width: '90%',
      height,
      border: 'line',
      label,
      tags: true,
      scrollable: true,
      keys: true,
      vi: true,
      content: [...lines, '', question].join('\n'),
    });
    box.focus();
    this.screen.render();
    return new Promise((resolve) => {
      let answered = false;
      const answer = (yes: boolean) => {
        if (answered) return;
        answered = true;
        box.destroy();
        this.screen.render();
        // After this key press, or the same key would act on the list.
        setImmediate(() => resolve(yes));
      };
      box.key(['y'], () => answer(true));
      box.key(['n', 'escape'], () => answer(false));
    });
  }

  private showHelp(): void {
    const help = blessed.message({ parent: this.screen, top: 'center', left: 'center', width: 70, height: '80%', border: 'line', label: ' Keys ' });
    help.display(helpText(), 0, () => this.list.focus());
  }

  // ── what the daemon says ────────────────────────────────────────────────────────────────────

  private onStatus(message: StatusMessage): void {
    if (!('job_id' in message) || message.job_id !== this.job.id) return;
    if (message.type === 'snapshot_created' || message.type === 'snapshot_removed') return void this.loadSnapshots();
    if (message.type !== 'job_progress' && message.type !== 'job_completed') return;
    const state: VerifyState = {
      run_id: message.run_id,
      status: message.type === 'job_completed' ? message.status : 'running',
      verify: message.verify ?? null,
      error_message: message.type === 'job_completed' ? message.error_message : null,
    };
    if (this.verifying?.run_id === message.run_id) {
      this.verifying = { ...state, verify: state.verify ?? this.verifying.verify };
      this.drawStatus();
      this.screen.render();
    } else if (message.verify) this.early.set(message.run_id, state);
  }

  // ── drawing ─────────────────────────────────────────────────────────────────────────────────

  private say(text: string): void {
    this.notice = text;
    this.drawStatus();
    this.screen.render();
  }

  private errorText(error: unknown): string {
    return this.paint(blessed.escape(error instanceof ApiError ? error.message : String(error)), 'red');
  }

  private drawStatus(): void {
    const verify = this.verifying ? verifyStatusText(this.verifying, this.paint) : '';
    // A line each: a long notice (a restore's target) would cut the verify's result off.
    this.status.setContent([verify, this.notice].filter((part) => part !== '').join('\n'));
  }

  /** Redraws the list for the view; `select` moves the selection (else it stays where it is). */
  private draw(select?: number): void {
    const keep = select ?? this.selected();
    this.title.setContent(` ${blessed.escape(snapshotsTitle(this.job.name, this.total, retentionText(this.policy)))}`);
    let items: string[];
    if (this.view.kind === 'snapshots') {
      this.list.setLabel(` ${SNAPSHOT_HEADER} `);
      items = this.loadError !== '' ? [this.loadError] : !this.loaded ? ['loading…'] : this.snapshots.length === 0 ? ['no snapshots yet: run the job (r on the dashboard)'] : this.snapshots.map((snapshot) => snapshotLine(snapshot, this.timezone, this.paint));
    } else {
      const { snapshot, page } = this.view;
      this.list.setLabel(` ${blessed.escape(treeTitle(localTime(snapshot.time, this.timezone), page))} `);
      const width = Math.max(20, Number(this.screen.width) - 32);
      const entries = treeLines(page, this.timezone, width);
      this.rows = [...(page.offset > 0 ? [{ kind: 'previous' } as const] : []), ...entries.map((_, index) => ({ kind: 'entry', index }) as const), ...(page.offset + page.entries.length < page.total ? [{ kind: 'more' } as const] : [])];
      items = this.rows.map((row) =>
        row.kind === 'entry' ? entries[row.index] : row.kind === 'previous' ? `… the ${TREE_PAGE} before` : `… ${page.total - page.offset - page.entries.length} more: ⏎ shows the next ${TREE_PAGE}`,
      );
      if (items.length === 0) items = ['(empty folder)'];
    }
    this.list.setItems(items as never);
    this.list.select(Math.min(keep, items.length - 1));
    this.drawStatus();
    this.screen.render();
  }
}
