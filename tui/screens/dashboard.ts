/**
 * The dashboard: jobs with live status, the selected job's recent runs, and drives. Updates come
 * from the status socket; a daemon restart shows as "reconnecting" until the socket is back.
 * At rest it asks the daemon for nothing: each kind of data is fetched on an event, an action or a
 * key (tui/pacing.ts keeps one request of a kind in flight), never because the screen was redrawn.
 * What it shows comes from tui/present/ (pure, unit-tested); what its keys do is one handler table.
 */
import blessed from 'blessed';
import { ApiError, type LiveSocket, type TuiApi } from '../api.ts';
import { bindKeys, footerFor, helpText, type ActionHandler, type ActionHandlers, type DashboardAction } from '../keys.ts';
import { debounced, retrying, singleFlight, throttled, type Deferred, type Retrying } from '../pacing.ts';
import { clockWaitingIn, headerText, jobTable } from '../present/dashboard.ts';
import { drivesText } from '../present/drives.ts';
import { destinationGauges, driveGauge, withBadges } from '../present/health.ts';
import { plain, tagged, type Paint } from '../present/paint.ts';
import { runsText } from '../present/runs.ts';
import { historyLine } from '../present/snapshots.ts';
import { applyStatusMessage, type LiveState } from '../present/status-events.ts';
import type { Dashboard as Health, Drive, Job, Provider, Run, StatusMessage } from '../wire.ts';
import { showChannels } from './channels.ts';
import { showCredentials } from './credentials.ts';
import { showHistory } from './history.ts';
import { editJob } from './job-form.ts';
import { showLog } from './log-view.ts';
import { restoreJob } from './restore-form.ts';
import { editSettings } from './settings.ts';
import { showSnapshots } from './snapshots.ts';
import { manageTwoFactor } from './two-factor.ts';
import { pairPhone } from './pairing.ts';

/** Shows the dashboard until the owner quits. */
export async function showDashboard(screen: blessed.Widgets.Screen, api: TuiApi, color: boolean): Promise<void> {
  await new Dashboard(screen, api, color).show();
}

/** The reason a job action gives when no job is selected (an empty table). */
const NO_JOB = 'no job selected';

/** The dashboard call (job states, space) at most this often, however many runs start and end. */
const HEALTH_EVERY_MS = 3000;

/** Work done after the key press that asked for it is handled, so the key does not land in what it opens. */
const afterThisKey = () => new Promise((resolve) => setImmediate(resolve));

class Dashboard {
  private readonly paint: Paint;
  private readonly header: blessed.Widgets.BoxElement;
  private readonly table: blessed.Widgets.ListTableElement;
  private readonly runsBox: blessed.Widgets.BoxElement;
  private readonly drivesBox: blessed.Widgets.BoxElement;
  private readonly footer: blessed.Widgets.BoxElement;

  private jobs: Job[] = [];
  /** The destination types, asked once when the dashboard opens (retried with the jobs until it answers). */
  private providers: Provider[] | null = null;
  private runs: Run[] = [];
  /** Which job `runs` belongs to: the selection can move while a refresh is on its way. */
  private runsJobId: number | null = null;
  private drives: Drive[] = [];
  /** GET /dashboard's answer: badges for the jobs, space for drives and destinations; null until it comes. */
  private health: Health | null = null;
  /** Scheduled runs wait for the system clock (health's CLOCK_NOT_SYNCHRONIZED): the header says so. */
  private clockWaiting = false;
  private readonly liveState: LiveState = { live: new Map(), driveStates: new Map() };
  private connected = false;
  /** Moves the activity bars of running jobs on each redraw. */
  private tick = 0;
  /** Redraws while a job runs, so its activity bar moves even when progress messages pause. */
  private activityTimer: NodeJS.Timeout | null = null;
  /** True while `draw` rebuilds the table: blessed then reports selections the owner did not make. */
  private drawing = false;
  private notice = '';
  /** The notice a failed load put up, taken down by the next load that works. */
  private failure = '';

  private readonly loadRuns: () => Promise<void>;
  private readonly loadJobs: Retrying;
  private readonly loadDrives: () => Promise<void>;
  private readonly fetchHealth: () => Promise<void>;
  private readonly throttledHealth: Deferred;
  private readonly selectionSettled: Deferred;
  private socket: LiveSocket | null = null;
  /** Screens opened over the dashboard that follow the status socket too (the snapshots screen). */
  private readonly statusListeners = new Set<(message: StatusMessage) => void>();

  constructor(
    private readonly screen: blessed.Widgets.Screen,
    private readonly api: TuiApi,
    private readonly color: boolean,
  ) {
    this.paint = color ? tagged : plain;
    this.header = blessed.box({ parent: screen, top: 0, left: 0, width: '100%', height: 1, tags: true });
    this.table = blessed.listtable({
      parent: screen,
      top: 1,
      left: 0,
      width: '100%',
      height: '50%',
      border: 'line',
      label: ' Jobs ',
      keys: true,
      vi: true,
      mouse: true,
      tags: true,
      align: 'left',
      noCellBorders: true,
      style: color ? { header: { bold: true }, cell: { selected: { bg: 'blue' } } } : { header: { bold: true }, cell: { selected: { inverse: true } } },
    } as never) as blessed.Widgets.ListTableElement;
    this.runsBox = blessed.box({ parent: screen, top: '50%+1', left: 0, width: '60%', height: '50%-2', border: 'line', label: ' Runs ', tags: true });
    this.drivesBox = blessed.box({ parent: screen, top: '50%+1', left: '60%', width: '40%', height: '50%-2', border: 'line', label: ' Drives ', tags: true });
    this.footer = blessed.box({ parent: screen, bottom: 0, left: 0, width: '100%', height: 1, content: footerFor('dashboard') });
    this.table.focus();

    this.loadRuns = singleFlight(() => this.fetchRuns());
    // Unreachable or a server error may pass; anything else (a lost session) would only fail again.
    const retryable = (error: unknown) => error instanceof ApiError && (error.status === 0 || error.status >= 500);
    this.loadJobs = retrying(() => this.fetchJobs(), { retryable, onError: (error) => this.showError(error) });
    // Drives are asked for on drive events and on the refresh key: the daemon runs lsblk for each ask.
    this.loadDrives = singleFlight(async () => {
      this.drives = await api.drives().catch(() => this.drives);
      this.draw();
    });
    // Asked with the jobs (on events, actions and keys); see loadHealth for the pace.
    this.fetchHealth = singleFlight(async () => {
      try {
        const [dashboard, health] = await Promise.all([api.dashboard(), api.health().catch(() => null)]);
        this.health = dashboard;
        this.clockWaiting = clockWaitingIn(health);
      } catch {
        // Badges and gauges are extras: the table and drives stand without them until the next ask.
        return;
      }
      this.draw();
    });
    this.throttledHealth = throttled(() => void this.fetchHealth(), HEALTH_EVERY_MS);
    // Holding ↓ over twenty jobs asks for the runs of the one it stops on, not of every one passed.
    this.selectionSettled = debounced(() => {
      if (this.selectedJob()?.id !== this.runsJobId) void this.loadRuns();
    }, 150);
  }

  /** Connects, loads, and handles keys until the owner quits; then lets go of every timer and socket. */
  async show(): Promise<void> {
    this.socket = this.api.socket(
      '/api/ws/status',
      (message) => this.onStatus(message),
      (connected) => this.onConnection(connected),
    );
    // Only the owner moving the selection counts (draw's rebuild of the table is not a move); blessed
    // renders the moved selection itself, so only the Runs box needs redoing.
    this.table.on('select item', () => {
      if (this.drawing) return;
      this.drawRuns();
      this.selectionSettled();
    });
    // Not awaited: the keys are bound at once, so a key pressed as the first jobs appear counts.
    void this.refresh();
    await new Promise<void>((quit) => {
      bindKeys(this.table, this.handlers(quit), (reason) => {
        this.notice = reason;
        this.draw();
      });
    });
    this.socket.close();
    this.loadJobs.stop();
    this.selectionSettled.cancel();
    this.throttledHealth.cancel();
    if (this.activityTimer !== null) clearInterval(this.activityTimer);
  }

  // ── what the keys do ────────────────────────────────────────────────────────────────────────

  /** One handler per dashboard action (keys.ts says which keys); `quit` ends `show()`. */
  private handlers(quit: () => void): ActionHandlers<DashboardAction> {
    const api = this.api;
    return {
      run: this.withJob((job) => void this.act(() => api.run(job.id), `started ${job.name}`)),
      cancel: this.withJob((job) => void this.act(() => api.cancel(job.id), `cancelling ${job.name}`)),
      'open-log': this.withJob((job) => void this.openLog(job)),
      new: { handle: () => this.openForm(null) },
      edit: this.withJob((job) => this.openForm(job)),
      toggle: this.withJob((job) => void this.act(() => api.setEnabled(job.id, !job.enabled), `${job.name} ${job.enabled ? 'disabled' : 'enabled'}`)),
      clone: this.withJob((job) => void this.act(() => api.clone(job.id), `cloned ${job.name} (the copy starts disabled)`)),
      restore: this.withJob((job) => this.overlay(() => restoreJob(this.screen, api, job, this.color))),
      delete: this.withJob((job) => this.confirmDelete(job)),
      refresh: { handle: () => void this.refresh() },
      settings: { handle: () => this.overlay(async () => ((await editSettings(this.screen, api, this.color)) ? 'settings saved' : null)) },
      'two-factor': { handle: () => this.overlay(() => manageTwoFactor(this.screen, api)) },
      pair: { handle: () => this.overlay(() => pairPhone(this.screen, api)) },
      credentials: { handle: () => this.overlay(() => this.replacedBy(() => showCredentials(this.screen, api, this.color)).then(() => null)) },
      snapshots: {
        disabledReason: () => {
          const job = this.selectedJob();
          if (!job) return NO_JOB;
          return job.backup_mode !== 'mirror' ? null : `${job.name} keeps a mirror, no history: edit it (e) and set History to snapshots`;
        },
        handle: () => {
          const job = this.selectedJob()!;
          this.overlay(() => this.replacedBy(() => showSnapshots(this.screen, api, job, this.color, (listener) => this.listen(listener))).then(() => null));
        },
      },
      'run-history': { handle: () => this.overlay(() => this.replacedBy(() => showHistory(this.screen, api, this.color)).then(() => null)) },
      alerts: { handle: () => this.overlay(() => this.replacedBy(() => showChannels(this.screen, api, this.color)).then(() => null)) },
      help: { handle: () => this.showHelp() },
      quit: { handle: quit },
    };
  }

  /** A handler for the selected job, disabled while there is none. */
  private withJob(handle: (job: Job) => void): ActionHandler {
    return {
      disabledReason: () => (this.selectedJob() ? null : NO_JOB),
      handle: () => handle(this.selectedJob()!),
    };
  }

  /** Does an API action, says how it went, and reloads the jobs. */
  private async act(what: () => Promise<unknown>, done: string): Promise<void> {
    try {
      await what();
      this.notice = done;
    } catch (error) {
      this.notice = this.errorText(error);
    }
    await this.loadJobs();
  }

  /** The job form, for a new job (null) or to edit one. */
  private openForm(job: Job | null): void {
    void afterThisKey().then(async () => {
      try {
        const saved = await editJob(this.screen, this.api, job, this.color);
        if (saved) this.notice = `saved ${saved}`;
      } catch (error) {
        // The form could not open (the providers did not come): say why instead of doing nothing.
        this.notice = this.errorText(error);
      }
      this.table.focus();
      await this.loadJobs();
    });
  }

  /** Runs a screen on top of the dashboard after this key press, then shows what it said. */
  private overlay(show: () => Promise<string | null>): void {
    void afterThisKey().then(async () => {
      try {
        const said = await show();
        if (said) this.notice = said;
      } catch (error) {
        this.notice = this.errorText(error);
      }
      this.table.focus();
      await this.loadJobs();
    });
  }

  /** Hides the dashboard while a full screen (credentials, a log) is shown. */
  private async replacedBy(show: () => Promise<void>): Promise<void> {
    const elements = [this.table, this.runsBox, this.drivesBox, this.footer];
    for (const element of elements) element.hide();
    await show();
    for (const element of elements) element.show();
  }

  private confirmDelete(job: Job): void {
    const question = blessed.question({ parent: this.screen, top: 'center', left: 'center', width: 60, height: 7, border: 'line', label: ' Delete ' });
    let answered = false;
    question.ask(`Delete "${job.name}" with its schedules and run history? (y/n)`, (_error, yes) => {
      // blessed can call back more than once for one answer; act on the first.
      if (answered) return;
      answered = true;
      question.destroy();
      // Focus the table only after this key press has been handled, or the same "y" would clone.
      setImmediate(() => {
        this.table.focus();
        if (yes) void this.act(() => this.api.deleteJob(job.id), `deleted ${job.name}`);
        else this.draw();
      });
    });
  }

  private async openLog(job: Job): Promise<void> {
    // The key can come before the selected job's runs have arrived: then ask for them now.
    const latest = this.runsJobId === job.id ? this.runs[0] : (await this.api.runsOf(job.id).catch((): Run[] => []))[0];
    if (!latest) {
      this.notice = `${job.name} has no runs yet`;
      return this.draw();
    }
    await this.replacedBy(() => showLog(this.screen, this.api, { id: latest.id, job_name: job.name }, this.color));
    this.table.focus();
    void this.loadJobs();
  }

  private showHelp(): void {
    const help = blessed.message({ parent: this.screen, top: 'center', left: 'center', width: 70, height: '90%', border: 'line', label: ' Keys ' });
    help.display(helpText(), 0, () => this.table.focus());
  }

  // ── what the daemon says ────────────────────────────────────────────────────────────────────

  /** Hands the status socket's messages to `listener` too, until the returned function is called. */
  private listen(listener: (message: StatusMessage) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  private onStatus(message: StatusMessage): void {
    for (const listener of this.statusListeners) listener(message);
    const effect = applyStatusMessage(this.liveState, message);
    if (effect.notice !== null) this.notice = effect.notice;
    this.animate();
    if (effect.reloadJobs) void this.loadJobs();
    if (effect.reloadDrives) void this.loadDrives();
    this.draw();
  }

  private onConnection(connected: boolean): void {
    // Each failed reconnect says "not connected" again; the screen already says so.
    if (!connected && !this.connected) return;
    this.connected = connected;
    // Back after a restart: what changed meanwhile came with no events.
    if (connected) void this.refresh();
    this.draw();
  }

  /**
   * The dashboard call (badges, space). While runs are live, at most once per HEALTH_EVERY_MS, so many
   * runs starting and ending cost one call per interval; at rest, at once (a single flight), so a key
   * or the arrival leaves no call pending that would fire later by itself.
   */
  private loadHealth(): void {
    if (this.liveState.live.size > 0) this.throttledHealth();
    else {
      this.throttledHealth.cancel();
      void this.fetchHealth();
    }
  }

  /** Everything, for the refresh key and a reconnect. */
  private refresh(): Promise<unknown> {
    return Promise.all([this.loadJobs(), this.loadDrives()]);
  }

  /**
   * The jobs table, then the runs of the job now at the selected row (a job started, ended, was
   * added or deleted); `loadJobs` tries again with a growing pause while the daemon does not answer.
   */
  private async fetchJobs(): Promise<void> {
    this.providers ??= await this.api.providers();
    this.jobs = await this.api.jobs();
    if (this.failure !== '' && this.notice === this.failure) this.notice = '';
    this.failure = '';
    // The daemon answers (F5 after an outage): the status socket need not sit out its backoff.
    if (!this.connected) this.socket?.retryNow();
    this.draw();
    this.loadHealth();
    await this.loadRuns();
  }

  /** The selected job's runs (asked for the job selected when the request starts). */
  private async fetchRuns(): Promise<void> {
    const job = this.selectedJob();
    try {
      this.runs = job ? await this.api.runsOf(job.id) : [];
      this.runsJobId = job?.id ?? null;
    } catch (error) {
      // Deleted meanwhile (by this UI or another client): it has no runs. Else keep what is known.
      if (!(error instanceof ApiError && error.status === 404)) return this.showError(error);
      this.runs = [];
      this.runsJobId = job?.id ?? null;
    }
    this.draw();
  }

  private showError(error: unknown): void {
    this.notice = this.failure = this.errorText(error);
    this.draw();
  }

  private errorText(error: unknown): string {
    return this.paint(error instanceof ApiError ? error.message : String(error), 'red');
  }

  /** Redraws every second while a job runs, so its activity bar moves; stops when none runs. */
  private animate(): void {
    const running = this.liveState.live.size > 0;
    if (running && this.activityTimer === null) this.activityTimer = setInterval(() => this.draw(), 1000);
    if (!running && this.activityTimer !== null) {
      clearInterval(this.activityTimer);
      this.activityTimer = null;
    }
  }

  // ── drawing ─────────────────────────────────────────────────────────────────────────────────

  private selectedRow(): number {
    return (this.table as unknown as { selected: number }).selected ?? 1;
  }

  private selectedJob(): Job | undefined {
    return this.jobs[Math.max(0, this.selectedRow() - 1)];
  }

  /** The Runs box (headed by the job's history for a snapshots job), or "loading…" while the selected job's runs are on their way. */
  private drawRuns(): void {
    const job = this.selectedJob();
    const history = job ? historyLine(job) : '';
    const runs = this.runsJobId !== (job?.id ?? null) ? 'loading…' : runsText(this.runs, this.paint);
    this.runsBox.setContent(history === '' ? runs : `${history}  (h: history)\n${runs}`);
  }

  /** Drives with their free-space gauges, then the destinations whose space is known. */
  private drivesContent(): string {
    const health = this.health;
    const drives = drivesText(this.drives, this.liveState.driveStates, this.paint, (drive) => (health ? driveGauge(drive, health.drives, this.paint) : null));
    const destinations = health ? destinationGauges(health.jobs, this.paint) : [];
    return destinations.length > 0 ? `${drives}\n\nDestinations\n${destinations.join('\n')}` : drives;
  }

  private draw(): void {
    this.header.setContent(headerText(this.api.baseUrl, this.connected, this.notice, this.paint, this.clockWaiting));
    const selected = this.selectedRow();
    this.tick += 1;
    const table = withBadges(jobTable(this.jobs, this.liveState.live, this.providers ?? [], this.paint, Date.now(), this.tick), this.jobs, this.health?.jobs ?? [], this.paint);
    this.drawing = true;
    try {
      this.table.setData(table);
      this.table.select(Math.min(selected, Math.max(1, this.jobs.length)));
    } finally {
      this.drawing = false;
    }
    this.drawRuns();
    this.drivesBox.setContent(this.drivesContent());
    this.screen.render();
  }
}
