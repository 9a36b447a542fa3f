/** Alerts: channels, the rules engine and its monitor, the sender that records history. */
export { AlertMonitor, OVERDUE_CHECK_MS, type AlertMonitorDependencies } from './alert-monitor.ts';
export { AlertSender, SEND_TIMEOUT_MS } from './alert-sender.ts';
export { ChannelService, type ChannelTestResult } from './channel-service.ts';
export { fullConfigOf } from './channel-secrets.ts';
export { channelCatalogue, SIGNATURE_HEADER } from './channels/index.ts';
