/**
 * Notification channels: list, add and edit (fields from GET /notifications/kinds; secrets typed
 * without echo and shown only as "set" or "not set"), switch on/off, delete, and "send test" with the
 * service's answer; below, the alert history. It asks the daemon when it opens and on a key, never by
 * itself.
 */
import blessed from 'blessed';
import { ApiError, type TuiApi } from '../api.ts';
import { footerFor, keysOf } from '../keys.ts';
import { alertLines, channelConfigOf, channelFieldOfError, channelFormFields, channelLines, kindChoiceHelp, testAnswerText } from '../present/channels.ts';
import { escapeTags } from '../present/logs.ts';
import { plain, tagged } from '../present/paint.ts';
import type { AlertRecord, Channel, ChannelKind } from '../wire.ts';
import { runForm } from './form.ts';

/** Alerts listed below the channels: the newest. */
const ALERTS_SHOWN = 50;

/** Shows the channels and the alert history until the owner goes back. */
export async function showChannels(screen: blessed.Widgets.Screen, api: TuiApi, color: boolean): Promise<void> {
  const paint = color ? tagged : plain;
  // Asked once when the screen opens: the kinds say which fields each channel has.
  const kinds: ChannelKind[] = await api.channelKinds();
  let channels: Channel[] = [];
  let alerts: AlertRecord[] = [];
  let alertTotal = 0;
  let notice = '';

  const list = blessed.list({ parent: screen, top: 0, left: 0, width: '100%', height: '40%', border: 'line', label: ' Notification channels ', keys: true, vi: true, mouse: true, tags: true, style: color ? { selected: { bg: 'blue' } } : { selected: { inverse: true } } });
  const history = blessed.box({ parent: screen, top: '40%', left: 0, width: '100%', height: '60%-3', border: 'line', label: ' Alerts sent ', tags: true, scrollable: true });
  // A line of its own: a service's answer to a test is what the owner came for, so it is not cut short by the keys.
  const noticeLine = blessed.box({ parent: screen, bottom: 1, left: 0, width: '100%', height: 2, tags: true });
  const footer = blessed.box({ parent: screen, bottom: 0, left: 0, width: '100%', height: 1, content: footerFor('channels') });

  const selected = (): Channel | undefined => channels[(list as unknown as { selected: number }).selected ?? 0];
  const draw = () => {
    list.setItems((channels.length > 0 ? channelLines(channels).map((line) => blessed.escape(line)) : [`no channels yet: ${keysOf('new-channel')[0]} adds one`]) as never);
    history.setLabel(` Alerts sent · ${alerts.length} of ${alertTotal} `);
    history.setContent(alerts.length > 0 ? alertLines(alerts.map((alert) => ({ ...alert, detail: escapeTags(alert.detail), job_name: alert.job_name && escapeTags(alert.job_name), channel_name: escapeTags(alert.channel_name) })), paint).join('\n') : 'no alerts sent yet');
    noticeLine.setContent(notice);
    screen.render();
  };
  const errorText = (error: unknown) => paint(escapeTags(error instanceof ApiError ? error.message : String(error)), 'red');
  const load = async () => {
    try {
      const [listed, page] = await Promise.all([api.channels(), api.alertHistory({ limit: ALERTS_SHOWN, offset: 0 })]);
      channels = listed;
      alerts = page.items;
      alertTotal = page.total;
    } catch (error) {
      notice = errorText(error);
    }
    list.focus();
    draw();
  };
  /** Work done after the key press that asked for it, then a reload. */
  const later = (work: () => Promise<void>) =>
    void new Promise((resolve) => setImmediate(resolve))
      .then(work)
      .catch((error: unknown) => void (notice = errorText(error)))
      .then(load);

  /** The channel form for `kind` (a new channel when `channel` is null); the saved channel's name, or null when left. */
  const edit = (kind: ChannelKind, channel: Channel | null) =>
    runForm(
      screen,
      {
        title: channel ? `Edit ${channel.name} (${kind.name}) — leave a secret empty to keep it` : `New ${kind.name} channel`,
        fields: channelFormFields(kind, channel),
        submit: async (values) => {
          const config = channelConfigOf(kind, values, channel);
          const saved = channel ? await api.updateChannel(channel.id, { name: values.name.trim(), config }) : await api.createChannel({ name: values.name.trim(), kind: kind.kind, config });
          return saved.name;
        },
        fieldOfError: (error) => channelFieldOfError(kind, error.message),
      },
      color,
    );

  list.focus();
  await load();
  await new Promise<void>((resolve) => {
    const bindings: Array<[string, () => void]> = [
      [
        'new-channel',
        () =>
          later(async () => {
            const kind = await runForm(
              screen,
              {
                title: 'New channel',
                fields: [{ key: 'kind', label: 'Kind', value: '', help: kindChoiceHelp(kinds) }],
                submit: async (values) => {
                  const found = kinds.find((candidate) => candidate.kind === values.kind.trim());
                  if (!found) throw new ApiError(400, 'UNKNOWN_CHANNEL_KIND', `"kind" must be one of: ${kinds.map((candidate) => candidate.kind).join(', ')}`);
                  return found;
                },
                fieldOfError: () => 'kind',
              },
              color,
            );
            if (!kind) return;
            const saved = await edit(kind, null);
            notice = saved ? `saved ${escapeTags(saved)}` : '';
          }),
      ],
      [
        'edit-channel',
        () => {
          const channel = selected();
          const kind = kinds.find((candidate) => candidate.kind === channel?.kind);
          if (!channel || !kind) return;
          later(async () => {
            const saved = await edit(kind, channel);
            notice = saved ? `saved ${escapeTags(saved)}` : '';
          });
        },
      ],
      [
        'test-channel',
        () => {
          const channel = selected();
          if (!channel) return;
          notice = `sending a test to ${escapeTags(channel.name)}…`;
          draw();
          later(async () => {
            const answer = await api.testChannel(channel.id);
            // The service's words may hold braces, which blessed would read as markup.
            notice = testAnswerText(escapeTags(channel.name), { ...answer, detail: escapeTags(answer.detail) }, paint);
          });
        },
      ],
      [
        'toggle-channel',
        () => {
          const channel = selected();
          if (!channel) return;
          later(async () => {
            await api.updateChannel(channel.id, { enabled: !channel.enabled });
            notice = `${escapeTags(channel.name)} ${channel.enabled ? 'off' : 'on'}`;
          });
        },
      ],
      [
        'delete-channel',
        () => {
          const channel = selected();
          if (!channel) return;
          later(async () => {
            await api.deleteChannel(channel.id);
            notice = `deleted ${escapeTags(channel.name)}`;
          });
        },
      ],
      ['reload-screen', () => void load()],
      ['close-screen', () => resolve()],
    ];
    for (const [action, handler] of bindings) list.key(keysOf(action), handler);
  });
  for (const element of [list, history, noticeLine, footer]) element.destroy();
}
