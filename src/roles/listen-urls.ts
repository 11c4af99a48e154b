import type { AddressInfo } from 'node:net';
import type { Config } from '../config/schema.ts';

/**
 * Where this process is reached. Configured public URLs win; otherwise the bound address, known only
 * after listening (port 0 picks a free port), so tokens and WHIP URLs read it per use.
 */
export class ListenUrls {
  readonly #config: Readonly<Config>;
  #apiPort: number;
  #stagePort: number;

  constructor(config: Readonly<Config>) {
    this.#config = config;
    this.#apiPort = config.server.port;
    this.#stagePort = config.stage.port;
  }

  bound(apiPort: number, stagePort: number): void {
    this.#apiPort = apiPort;
    this.#stagePort = stagePort;
  }

  get api(): string {
    return this.#config.server.publicUrl ?? this.boundApi;
  }

  /** The API's own address, whatever the public URL says. */
  get boundApi(): string {
    return `http://${this.#host}:${this.#apiPort}`;
  }

  get stage(): string {
    return this.#config.stage.publicUrl ?? `http://${this.#host}:${this.#stagePort}`;
  }

  get edge(): string {
    return this.#config.edge.publicUrl ?? this.api;
  }

  get #host(): string {
    const { host } = this.#config.server;
    return host.includes(':') ? `[${host}]` : host;
  }
}

export function portOf(address: string | AddressInfo | null): number {
  return typeof address === 'object' && address !== null ? address.port : 0;
}
