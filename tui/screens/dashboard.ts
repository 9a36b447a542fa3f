/**
 * The dashboard: jobs with live status, the selected job's recent runs, and drives. Updates come
 * from the status socket; a daemon restart shows as "reconnecting" until the socket is back.
 * At rest it asks the daemon for nothing: each kind of data is fetched on an event, an action or a
 * key (tui/pacing.ts keeps one request of a kind in flight), never because the screen was redrawn.
 */
import { restoreJob } from './restore-form.ts';
import blessed from 'blessed';
import { ApiError, type TuiApi } from '../api.ts';
import { footerFor, helpText, keysOf } from '../keys.ts';
import { formatAge, formatBytes, sparkline } from '../present/format.ts';
import { isProblem, JOB_COLUMNS, jobRows, type JobSummary, type LiveRun } from '../present/jobs.ts';
import { debounced, retrying, singleFlight } from '../pacing.ts';
import { editJob } from './job-form.ts';
import { showCredentials } from './credentials.ts';
import { editSettings } from './settings.ts';
import { manageTwoFactor } from './two-factor.ts';
import { showLog } from './log-view.ts';

export async function showDashboard(screen: blessed.Widgets.Screen, api: TuiApi, color: boolean): Promise<void> {
  let jobs: JobSummary[] = [];
  let runs: any[] = [];
  /** Which job `runs` belongs to: the selection can move while a refresh is on its way. */
  let runsJobId: number | null = null;
  let drives: any[] = [];
  const live = new Map<number, LiveRun>();
  /** What plug-in is doing with each drive, from the status socket's drive events. */
  const driveStates = new Map<string, string>();
  let connected = false;
  /** Moves the activity bars of running jobs on each redraw. */
  let tick = 0;
  /** Redraws while a job runs, so its activity bar moves even when progress messages pause. */
  let activityTimer: NodeJS.Timeout | null = null;
  /** True while `draw` rebuilds the table: blessed then reports selections the owner did not make. */
  let drawing = false;
  let notice = '';

  const header = blessed.box({ parent: screen, top: 0, left: 0, width: '100%', height: 1, tags: true });
  const table = blessed.listtable({
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
  const runsBox = blessed.box({ parent: screen, top: '50%+1', left: 0, width: '60%', height: '50%-2', border: 'line', label: ' Runs ', tags: true });
  const drivesBox = blessed.box({ parent: screen, top: '50%+1', left: '60%', width: '40%', height: '50%-2', border: 'line', label: ' Drives ', tags: true });
  const footer = blessed.box({ parent: screen, bottom: 0, left: 0, width: '100%', height: 1, content: footerFor('dashboard') });
  table.focus();

  const selectedJob = (): JobSummary | undefined => jobs[Math.max(0, ((table as unknown as { selected: number }).selected ?? 1) - 1)];
  const paint = (text: string, colour: string) => (color ? `{${colour}-fg}${text}{/${colour}-fg}` : text);

  /** The Runs box, or "loading…" while the selected job's runs are on their way. */
  const drawRuns = () => {
    if (runsJobId !== (selectedJob()?.id ?? null)) return runsBox.setContent('loading…');
    const history = [...runs].reverse();
    const seconds = (run: any) => (run.started_at && run.completed_at ? (Date.parse(run.completed_at) - Date.parse(run.started_at)) / 1000 : 0);
    const chart = history.length > 1 ? `bytes ${sparkline(history.map((run) => run.bytes_transferred))}  time ${sparkline(history.map(seconds))}\n` : '';
    runsBox.setContent(
      chart +
      runs
        .map((run) => {
          const line = `#${run.id} ${run.status.padEnd(9)} ${run.trigger.padEnd(9)} ${formatAge(run.completed_at ?? run.started_at)}  ${run.files_transferred} files ${formatBytes(run.bytes_transferred)}`;
          return isProblem(run.status) ? paint(`${line}  ${run.error_message ?? ''}`, 'red') : line;
        })
        .join('\n') || 'no runs yet',
    );
  };

  const draw = () => {
    header.setContent(` Cairn · ${api.baseUrl} · ${connected ? paint('live', 'green') : paint('reconnecting…', 'yellow')}${notice ? ` · ${notice}` : ''}`);
    const selected = (table as unknown as { selected: number }).selected ?? 1;
    tick += 1;
    const rows = jobRows(jobs, live, Date.now(), tick).map((row) => row.map((cell, i) => (i === 2 && isProblem(cell) ? paint(cell, 'red') : cell)));
    drawing = true;
    try {
      table.setData([JOB_COLUMNS, ...(rows.length > 0 ? rows : [['no jobs yet', '', '', '', '']])]);
      table.select(Math.min(selected, Math.max(1, rows.length)));
    } finally {
      drawing = false;
    }
    drawRuns();
    drivesBox.setContent(
      drives
        .map((drive) => {
          const state = driveStates.get(drive.uuid) ?? (drive.mountpoint ? `mounted ${drive.mountpoint}` : 'not mounted');
          const text = `${drive.label ?? drive.name} ${drive.size} ${state}`;
          return state.startsWith('safe to remove') ? paint(text, state.includes('failed') ? 'red' : 'green') : text;
        })
        .join('\n') || 'no drives',
    );
    screen.render();
  };

  /** The notice a failed load put up, taken down by the next load that works. */
  let failure = '';
  const showError = (error: unknown) => {
    notice = failure = paint(error instanceof ApiError ? error.message : String(error), 'red');
    draw();
  };
  // Unreachable or a server error may pass; anything else (a lost session) would only fail again.
  const retryable = (error: unknown) => error instanceof ApiError && (error.status === 0 || error.status >= 500);
  /** The selected job's runs (asked for the job selected when the request starts). */
  const loadRuns = singleFlight(async () => {
    const job = selectedJob();
    try {
      runs = job ? await api.runsOf(job.id) : [];
      runsJobId = job?.id ?? null;
    } catch (error) {
      // Deleted meanwhile (by this UI or another client): it has no runs. Else keep what is known.
      if (!(error instanceof ApiError && error.status === 404)) return showError(error);
      runs = [];
      runsJobId = job?.id ?? null;
    }
    draw();
  });
  /**
   * The jobs table, then the runs of the job now at the selected row (a job started, ended, was
   * added or deleted); tried again with a growing pause while the daemon does not answer.
   */
  const loadJobs = retrying(
    async () => {
      jobs = await api.jobs();
      if (failure !== '' && notice === failure) notice = '';
      failure = '';
      // The daemon answers (F5 after an outage): the status socket need not sit out its backoff.
      if (!connected) socket.retryNow();
      draw();
      await loadRuns();
    },
    { retryable, onError: showError },
  );
  /** Drives, asked for on drive events and on the refresh key: the daemon runs lsblk for each ask. */
  const loadDrives = singleFlight(async () => {
    drives = await api.drives().catch(() => drives);
    draw();
  });
  /** Everything, for the refresh key and a reconnect. */
  const refresh = () => Promise.all([loadJobs(), loadDrives()]);
  /** Holding ↓ over twenty jobs asks for the runs of the one it stops on, not of every one passed. */
  const selectionSettled = debounced(() => {
    if (selectedJob()?.id !== runsJobId) void loadRuns();
  }, 150);
  const animate = () => {
    if (live.size > 0 && activityTimer === null) activityTimer = setInterval(draw, 1000);
    if (live.size === 0 && activityTimer !== null) {
      clearInterval(activityTimer);
      activityTimer = null;
    }
  };

  const socket = api.socket(
    '/api/ws/status',
    (message) => {
      if (message.type === 'job_progress' || message.type === 'job_started') {
        const previous = live.get(message.job_id);
        const bytes = message.bytes_transferred ?? 0;
        const rate = previous ? Math.max(0, (bytes - previous.bytes_transferred) * 4) : 0;
        live.set(message.job_id, { run_id: message.run_id, files_transferred: message.files_transferred ?? 0, bytes_transferred: bytes, rate });
      }
      if (message.type === 'job_completed') live.delete(message.job_id);
      if (message.type === 'drive_connected') driveStates.set(message.uuid, message.registered ? 'connected: backup starting' : 'connected');
      if (message.type === 'drive_mounted') driveStates.set(message.uuid, `backing up to ${message.mount_point}`);
      if (message.type === 'drive_safe_to_remove') driveStates.set(message.uuid, message.outcome === 'completed' ? 'safe to remove' : 'safe to remove (a job failed)');
      if (message.type === 'drive_removed') driveStates.delete(message.uuid);
      if (message.type.startsWith('drive_')) notice = `${message.type.replace('drive_', 'drive ').replace(/_/g, ' ')}: ${message.label ?? message.uuid}`;
      animate();
      if (message.type === 'job_started' || message.type === 'job_completed') void loadJobs();
      if (message.type.startsWith('drive_')) void loadDrives();
      draw();
    },
    (isConnected) => {
      // Each failed reconnect says "not connected" again; the screen already says so.
      if (!isConnected && !connected) return;
      connected = isConnected;
      // Back after a restart: what changed meanwhile came with no events.
      if (isConnected) void refresh();
      draw();
    },
  );

  const act = async (what: () => Promise<unknown>, done: string) => {
    try {
      await what();
      notice = done;
    } catch (error) {
      notice = paint(error instanceof ApiError ? error.message : String(error), 'red');
    }
    await loadJobs();
  };

  // Only the owner moving the selection counts (draw's rebuild of the table is not a move); blessed
  // renders the moved selection itself, so only the Runs box needs redoing.
  table.on('select item', () => {
    if (drawing) return;
    drawRuns();
    selectionSettled();
  });
  // Not awaited: the keys below are bound at once, so a key pressed as the first jobs appear counts.
  void refresh();

  await new Promise<void>((resolve) => {
    table.key(keysOf('run'), () => {
      const job = selectedJob();
      if (job) void act(() => api.run(job.id), `started ${job.name}`);
    });
    table.key(keysOf('cancel'), () => {
      const job = selectedJob();
      if (job) void act(() => api.cancel(job.id), `cancelling ${job.name}`);
    });
    table.key(keysOf('refresh'), () => void refresh());
    const openForm = (job: JobSummary | null) => {
      // Opened after this key press is handled, so the key does not land in the first field.
      void new Promise((resolve) => setImmediate(resolve)).then(async () => {
        const saved = await editJob(screen, api, job, color);
        table.focus();
        if (saved) notice = `saved ${saved}`;
        await loadJobs();
      });
    };
    table.key(keysOf('new'), () => openForm(null));
    /** Runs a screen on top of the dashboard after this key press, then shows what it said. */
    const overlay = (show: () => Promise<string | null>) => {
      void new Promise((resolve) => setImmediate(resolve)).then(async () => {
        try {
          const said = await show();
          if (said) notice = said;
        } catch (error) {
          notice = paint(error instanceof ApiError ? error.message : String(error), 'red');
        }
        table.focus();
        await loadJobs();
      });
    };
    table.key(keysOf('restore'), () => {
      const job = selectedJob();
      if (job) overlay(() => restoreJob(screen, api, job, color));
    });
    table.key(keysOf('settings'), () => overlay(async () => ((await editSettings(screen, api, color)) ? 'settings saved' : null)));
    table.key(keysOf('two-factor'), () => overlay(() => manageTwoFactor(screen, api)));
    table.key(keysOf('credentials'), () =>
      overlay(async () => {
        for (const element of [table, runsBox, drivesBox, footer]) element.hide();
        await showCredentials(screen, api, color);
        for (const element of [table, runsBox, drivesBox, footer]) element.show();
        return null;
      }),
    );
    table.key(keysOf('edit'), () => {
      const job = selectedJob();
      if (job) openForm(job);
    });
    table.key(keysOf('toggle'), () => {
      const job = selectedJob();
      if (job) void act(() => api.setEnabled(job.id, !job.enabled), `${job.name} ${job.enabled ? 'disabled' : 'enabled'}`);
    });
    table.key(keysOf('clone'), () => {
      const job = selectedJob();
      if (job) void act(() => api.clone(job.id), `cloned ${job.name} (the copy starts disabled)`);
    });
    table.key(keysOf('delete'), () => {
      const job = selectedJob();
      if (!job) return;
      const question = blessed.question({ parent: screen, top: 'center', left: 'center', width: 60, height: 7, border: 'line', label: ' Delete ' });
      let answered = false;
      question.ask(`Delete "${job.name}" with its schedules and run history? (y/n)`, (_error, yes) => {
        // blessed can call back more than once for one answer; act on the first.
        if (answered) return;
        answered = true;
        question.destroy();
        // Focus the table only after this key press has been handled, or the same "y" would clone.
        setImmediate(() => {
          table.focus();
          if (yes) void act(() => api.deleteJob(job.id), `deleted ${job.name}`);
          else draw();
        });
      });
    });
    table.key(keysOf('open-log'), () => {
      const job = selectedJob();
      if (!job) return;
      void (async () => {
        // The key can come before the selected job's runs have arrived: then ask for them now.
        const latest = runsJobId === job.id ? runs[0] : (await api.runsOf(job.id).catch(() => []))[0];
        if (!latest) {
          notice = `${job.name} has no runs yet`;
          return draw();
        }
        for (const element of [table, runsBox, drivesBox, footer]) element.hide();
        await showLog(screen, api, { id: latest.id, job_name: job.name }, color);
        for (const element of [table, runsBox, drivesBox, footer]) element.show();
        table.focus();
        void loadJobs();
      })();
    });
    table.key(keysOf('help'), () => {
      const help = blessed.message({ parent: screen, top: 'center', left: 'center', width: 70, height: 16, border: 'line', label: ' Keys ' });
      help.display(helpText(), 0, () => table.focus());
    });
    table.key(keysOf('quit'), () => resolve());
  });
  socket.close();
  loadJobs.stop();
  selectionSettled.cancel();
  if (activityTimer !== null) clearInterval(activityTimer);
}
