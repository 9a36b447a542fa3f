/**
 * Benchmark of the terminal UI at rest (issue 11): the real TUI in tmux against a real daemon
 * process with 20 jobs, through a proxy that counts requests. Three phases: idle on the dashboard,
 * holding ↓ (and back ↑) across all jobs at key-repeat rate, and the daemon stopped. Per phase it
 * prints CPU % of one core of the TUI and of the daemon (utime+stime from /proc/PID/stat), the most
 * sockets each held open at once (/proc/PID/fd links to socket:), the daemon's child processes
 * (lsblk …; most at once and how many were seen), and the requests and connections the TUI made.
 * Targets: TUI and daemon each under 1% of a core when idle; requests bounded by keys, not redraws.
 *
 *   node --import tsx bench/tui-rest.ts [--jobs 20] [--idle 60] [--hold 10] [--rate 30] [--stopped 20]
 * Durations are in seconds; --rate is keys per second. Removes what it made.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { startCountingProxy } from '../test/counting-proxy.ts';
import { ApiClient, spawnDaemonProcess, tempDir } from '../test/helpers.ts';
import { childrenOf } from '../test/servers.ts';
import { killSession, launchTui, logIn, newSessionName, press, shows, tuiPid } from '../test/tmux-tui.ts';
import { waitFor } from '../test/trees.ts';
import { numberOption } from './options.ts';

const JOBS = numberOption('--jobs', 20);
const IDLE_S = numberOption('--idle', 60);
const HOLD_S = numberOption('--hold', 10);
const RATE = numberOption('--rate', 30);
const STOPPED_S = numberOption('--stopped', 20);
/** Clock ticks per second of /proc/PID/stat times (USER_HZ; 100 on every Linux Cairn runs on). */
const TICKS = 100;
const SAMPLE_MS = 200;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** utime + stime of a process in ticks; 0 once it has gone. */
function cpuTicks(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** Open sockets of a process; 0 once it has gone. */
function socketCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).filter((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:');
      } catch {
        return false;
      }
    }).length;
  } catch {
    return 0;
  }
}

interface PhaseFigures {
  name: string;
  seconds: number;
  tuiCpu: number;
  daemonCpu: number | null;
  tuiSockets: number;
  daemonSockets: number | null;
  childrenMost: number | null;
  childrenSeen: number | null;
  requests: number;
  runsRequests: number;
  connections: number;
  keys: number;
}

async function main() {
  const daemon = await spawnDaemonProcess(tempDir());
  const daemonPid = daemon.child.pid!;
  const client = new ApiClient(daemon.url);
  await client.setupAdmin();
  for (let i = 1; i <= JOBS; i++) {
    await client.post('/api/jobs', { name: `Job ${String(i).padStart(2, '0')}`, source_dirs: [tempDir()], destination_type: 'local', destination_config: { mount_point: tempDir(), backup_subdir: '' } });
  }
  const proxy = await startCountingProxy(daemon.url);
  const target = { session: newSessionName('cairn-bench-tui') };
  // Tall enough that every job's row is on screen.
  launchTui(target.session, proxy.url, { width: 100, height: JOBS * 2 + 10 });
  try {
    await logIn(target);
    await shows(target, `Job ${String(JOBS).padStart(2, '0')}`);
    await shows(target, / live/);
    const tui = tuiPid(target);
    await sleep(3000);

    /** Runs `during` while sampling; the figures of that stretch. */
    const phase = async (name: string, daemonUp: boolean, during: () => Promise<number>): Promise<PhaseFigures> => {
      proxy.reset();
      const started = process.hrtime.bigint();
      const tuiBefore = cpuTicks(tui);
      const daemonBefore = daemonUp ? cpuTicks(daemonPid) : 0;
      let tuiSockets = 0;
      let daemonSockets = 0;
      let childrenMost = 0;
      const childrenSeen = new Set<number>();
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          tuiSockets = Math.max(tuiSockets, socketCount(tui));
          if (daemonUp) {
            daemonSockets = Math.max(daemonSockets, socketCount(daemonPid));
            const children = childrenOf(daemonPid);
            childrenMost = Math.max(childrenMost, children.length);
            for (const child of children) childrenSeen.add(child);
          }
          await sleep(SAMPLE_MS);
        }
      })();
      const keys = await during();
      // Read before the sampler stops, so the daemon's figures cover exactly this stretch.
      const daemonAfter = daemonUp ? cpuTicks(daemonPid) : 0;
      const tuiAfter = cpuTicks(tui);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      sampling = false;
      await sampler;
      const percent = (ticks: number) => (ticks / TICKS / seconds) * 100;
      return {
        name,
        seconds,
        tuiCpu: percent(tuiAfter - tuiBefore),
        daemonCpu: daemonUp ? percent(daemonAfter - daemonBefore) : null,
        tuiSockets,
        daemonSockets: daemonUp ? daemonSockets : null,
        childrenMost: daemonUp ? childrenMost : null,
        childrenSeen: daemonUp ? childrenSeen.size : null,
        requests: proxy.requests.length,
        runsRequests: proxy.requests.filter((request) => /\/runs\?/.test(request)).length,
        connections: proxy.connections(),
        keys,
      };
    };

    const phases: PhaseFigures[] = [];
    console.log(`${JOBS} jobs; idle ${IDLE_S} s, holding ↓/↑ ${HOLD_S} s at ${RATE} keys/s, daemon stopped ${STOPPED_S} s …`);
    phases.push(await phase('idle', true, async () => (await sleep(IDLE_S * 1000), 0)));
    phases.push(
      await phase('holding ↓/↑', true, async () => {
        // Down through every job, then back up, as long as the key is held.
        const start = Date.now();
        let keys = 0;
        while (Date.now() < start + HOLD_S * 1000) {
          press(target, Math.floor(keys / (JOBS - 1)) % 2 === 0 ? 'Down' : 'Up');
          keys += 1;
          // Paced by the clock, so the time tmux takes per key does not slow the rate.
          await sleep(Math.max(0, start + (keys * 1000) / RATE - Date.now()));
        }
        // The runs of the job it stopped on arrive after the debounce; count them in this phase.
        await sleep(1000);
        return keys;
      }),
    );
    phases.push(await phase('settled after keys', true, async () => (await sleep(5000), 0)));
    await daemon.kill();
    await shows(target, 'reconnecting');
    phases.push(await phase('daemon stopped', false, async () => (await sleep(STOPPED_S * 1000), 0)));

    const cell = (value: number | null, digits = 0) => (value === null ? '—' : value.toFixed(digits)).padStart(10);
    console.log(`\n${'phase'.padEnd(20)}${'seconds'.padStart(10)}${'TUI CPU%'.padStart(10)}${'daemon%'.padStart(10)}${'TUI sock'.padStart(10)}${'dmn sock'.padStart(10)}${'children'.padStart(10)}${'ch. seen'.padStart(10)}${'keys'.padStart(10)}${'requests'.padStart(10)}${'runs req'.padStart(10)}${'connects'.padStart(10)}`);
    for (const p of phases) {
      console.log(`${p.name.padEnd(20)}${cell(p.seconds, 1)}${cell(p.tuiCpu, 2)}${cell(p.daemonCpu, 2)}${cell(p.tuiSockets)}${cell(p.daemonSockets)}${cell(p.childrenMost)}${cell(p.childrenSeen)}${cell(p.keys)}${cell(p.requests)}${cell(p.runsRequests)}${cell(p.connections)}`);
    }
    console.log(`\ntargets: idle TUI and daemon CPU < 1% of a core; runs requests ≤ keys; a handful of connects with the daemon stopped.`);
    console.log(`sockets and children are the most at once (sampled every ${SAMPLE_MS} ms); "ch. seen" counts distinct child processes; "requests" includes WebSocket upgrades.`);
  } finally {
    killSession(target);
    await proxy.stop();
    await daemon.kill();
    await waitFor('the daemon to exit', () => daemon.child.exitCode !== null || daemon.child.signalCode !== null);
  }
}

await main();
