import Table from 'cli-table3';
import { plural } from '../../core/plural.js';
import { ExitCode } from '../../errors.js';
import { listKeys, type ListKeysResult } from '../../flows/keys.js';
import { mfaPrompt } from '../../rotation/runtime.js';
import { mfaCodeOf } from '../flags.js';
import { createPrompter, painter, useColor, type CliStreams } from '../io.js';

export interface KeysFlags {
  profile?: string;
  authProfile?: string;
  mfaCode?: string;
  user?: string;
  json?: boolean;
}

export async function runKeys(flags: KeysFlags, streams: CliStreams): Promise<number> {
  const mfaCode = mfaCodeOf(flags);
  const prompter = createPrompter(streams, !flags.json);
  const result = await listKeys({ profile: flags.profile, authProfile: flags.authProfile, userName: flags.user?.trim(), mfaCode, mfaCodeProvider: mfaPrompt(prompter), env: streams.env });
  for (const warning of result.warnings) streams.stderr.write(`warning: ${warning}\n`);
  if (flags.json) {
    streams.stdout.write(`${JSON.stringify({ ok: true, ...result }, null, 2)}\n`);
  } else {
    // The listing is this command's result, so it goes to stdout (and can be piped); nothing else does.
    streams.stdout.write(renderKeys(result, useColor(streams.stdout, streams.env)));
  }
  return ExitCode.ok;
}

export function renderKeys(result: ListKeysResult, color: boolean): string {
  const paint = painter(color);
  const table = new Table({
    head: ['key id', 'status', 'created', 'age', 'last used', 'service', 'region', 'profiles'],
    style: { head: color ? ['bold'] : [], border: color ? ['grey'] : [] },
  });
  for (const key of result.keys) {
    const used = key.lastUsed;
    table.push([
      key.current ? paint('bold', `${key.accessKeyId} *`) : key.accessKeyId,
      key.status === 'Active' ? paint('green', key.status) : paint('yellow', key.status),
      key.createDate ? key.createDate.toISOString().slice(0, 10) : '-',
      key.ageDays === undefined ? '-' : `${key.ageDays} d`,
      used?.date ? used.date.toISOString().slice(0, 16).replace('T', ' ') : 'never',
      used?.serviceName && used.serviceName !== 'N/A' ? used.serviceName : '-',
      used?.region && used.region !== 'N/A' ? used.region : '-',
      key.profiles.join(', ') || '-',
    ]);
  }
  const mark = result.keys.some((key) => key.current) ? ` (* = the key of ${result.source})` : '';
  return `${result.user.arn}: ${plural(result.keys.length, 'access key')}${mark}\n${table.toString()}\n`;
}
