/**
 * `NODE_OPTIONS="--import ./bench/lib/cpu-profile-preload.ts" AMPHI_CPU_PROFILE_DIR=dir`: writes a V8
 * CPU profile of each Node process it is loaded into, at exit, as dir/<pid>.cpuprofile (Node refuses
 * `--cpu-prof` in NODE_OPTIONS, and the benches spawn Amphi themselves). For `amphi bench stage --profile`.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.AMPHI_CPU_PROFILE_DIR;
if (dir !== undefined && dir !== '') {
  const session = new Session();
  session.connect();
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.enable');
  session.post('Profiler.start');
  process.on('exit', () => {
    // The in-process session answers synchronously, so this runs to the end inside 'exit'.
    session.post('Profiler.stop', (error, result) => {
      if (error === null && result !== undefined)
        writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
