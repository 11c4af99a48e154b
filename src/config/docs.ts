import { defaultConfig } from './defaults.ts';
import { describeSchema } from './describe.ts';
import { envAliases, settings } from './env.ts';

function valueAt(path: string): unknown {
  return path.split('.').reduce<unknown>((cursor, key) => (cursor as Record<string, unknown>)[key], defaultConfig);
}

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** docs/configuration.md: every setting, its environment variable, its default and what it accepts. */
export function renderSettingsDocs(): string {
  const aliases = new Map<string, string[]>();
  for (const [name, path] of Object.entries(envAliases)) aliases.set(path, [...(aliases.get(path) ?? []), name]);
  const rows = settings.map(({ path, env, schema }) => {
    const names = [env, ...(aliases.get(path) ?? [])].map((n) => `\`${n}\``).join(', ');
    const accepts = describeSchema(schema);
    return `| \`${path}\` | ${names} | \`${cell(JSON.stringify(valueAt(path)))}\` | ${cell(accepts)} |`;
  });
  return `# Configuration

<!-- Generated from src/config/schema.ts and src/config/defaults.ts by \`npm run docs:config\`; a test checks it is current. -->

Every setting comes from, in order (later wins): its default, the config file (\`--config FILE\` or
\`AMPHI_CONFIG\`, YAML or JSON; \`amphi.sample.yaml\` shows every key with comments), the environment,
then a command-line flag (\`amphi --help\` lists the flags). \`amphi config\` prints the result, secrets
redacted.

**The environment rule**: \`AMPHI_\` and the setting's path in upper snake case, dots as underscores
(\`stage.remoteCandidates.minPort\` is \`AMPHI_STAGE_REMOTE_CANDIDATES_MIN_PORT\`). Values are read as
the setting expects: numbers, \`true\`/\`false\`, \`null\`, text as is, a list as comma-separated items
(\`AMPHI_STAGE_ICE_ADDRESSES=203.0.113.7,2001:db8::7\`) or as JSON, and anything else as JSON
(\`AMPHI_ADMISSION_SHEDDING_LEVELS='[{"joinsToWaitingRoom":true,...}]'\`). A few well-known names work
too (\`PORT\`, \`HOST\`, \`DATABASE_URL\`, \`REDIS_URL\`, \`AWS_ACCESS_KEY_ID\`...); the rule's name wins
when both are set. An \`AMPHI_\` variable that names nothing Amphi reads is ignored and said so at
start, with the nearest name (\`amphi: AMPHI_SERVER_PROT is not a setting, ignored (did you mean
AMPHI_SERVER_PORT?)\`).

With \`NODE_ENV=production\` the demo Space is off unless \`demo.enabled\` is set.

A bad value stops the start with one line per setting: what it accepts, what it got, and where it
came from.

| setting | environment | default | accepts |
| --- | --- | --- | --- |
${rows.join('\n')}
`;
}
