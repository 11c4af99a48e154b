/** A bare node:http server in its own process on CPU 0: the Node ceiling or floor a bench compares Amphi with. */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { pinnedCommand } from './proc.ts';
import { stopProcess, type Teardown } from './teardown.ts';

export interface NodePeer {
  readonly pid: number;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** Stops it now (the teardown would otherwise). */
  stop(): Promise<void>;
}

/**
 * Runs `source` (CommonJS for `node -e`) pinned to CPU 0; it must listen on 127.0.0.1 and print its
 * port as its first line. The teardown stops it.
 */
export async function startNodePeer(t: Teardown, source: string): Promise<NodePeer> {
  const [cmd, args] = pinnedCommand(0, process.execPath, ['-e', source]);
  const child = t.child(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] }));
  const port = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`peer server exited early (${code})`)));
    createInterface({ input: child.stdout }).once('line', resolve);
  });
  return { pid: child.pid!, url: `http://127.0.0.1:${port.trim()}`, stop: () => stopProcess(child) };
}
