/** The JSON API caller the drills use: tests and drills talk to a running Amphi the same way. */
export { jsonApi } from '../../bench/lib/json-api.ts';
