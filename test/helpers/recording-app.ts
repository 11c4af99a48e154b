import { pino } from 'pino';
import { mountControlApi } from '../../src/control/http/api.ts';
import { RequestAuth } from '../../src/control/http/auth.ts';
import type { RecordingFiles } from '../../src/control/http/types.ts';
import { createHttpApp, type App } from '../../src/lib/http-app.ts';
import { RateLimiter } from '../../src/lib/token-bucket.ts';
import type { TestApp } from './app.ts';

/**
 * The control API of a test app mounted once more, on its own app, with `recordingFiles` (what the
 * control role's `mountControl` passes when the role has media): the Spaces, accounts and sessions
 * are the test app's, the recording download is served from `files`. Close it before the test app.
 */
export async function withRecordingFiles(test: TestApp, files: RecordingFiles): Promise<App> {
  const log = pino({ level: 'silent' });
  const app = createHttpApp({ log, limits: test.config.admission.limits, bodyLimitBytes: test.config.server.bodyLimitBytes });
  await mountControlApi(app, {
    admission: test.admission,
    plane: test.plane,
    auth: new RequestAuth(test.plane.accounts, false),
    clock: test.clock,
    config: test.config,
    authLimiter: new RateLimiter(test.config.rateLimits.authPerAddress, test.clock),
    metrics: test.metrics.control,
    live: test.live,
    recordingFiles: files,
  });
  await app.ready();
  return app;
}
