/** GET /api/providers as a test daemon with rclone installed answers it (address.test.ts checks that it still is). */
import { readFileSync } from 'node:fs';
import type { Provider } from '../../../tui/wire.ts';

export const PROVIDERS: readonly Provider[] = JSON.parse(readFileSync(new URL('./providers.json', import.meta.url), 'utf8'));
