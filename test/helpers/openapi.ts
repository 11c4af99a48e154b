import { makeTestApp } from './app.ts';

/** The control API's OpenAPI document, from an in-memory app. */
export async function openApiDocument(): Promise<unknown> {
  const app = await makeTestApp();
  try {
    return (await app.call('GET', '/api/openapi.json')).json as unknown;
  } finally {
    await app.close();
  }
}
