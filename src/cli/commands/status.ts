import Table from 'cli-table3';
import { maskKeyId } from '../../core/mask.js';
import { ExitCode } from '../../errors.js';
import { rotationStatus, type StatusEntry, type StatusResult } from '../../flows/status.js';
import { painter, useColor, type CliStreams } from '../io.js';

export interface StatusFlags {
  json?: boolean;
}

export async function runStatus(flags: StatusFlags, streams: CliStreams): Promise<number> {
  const result = await rotationStatus({ env: streams.env });
  if (flags.json) streams.stdout.write(`${JSON.stringify({ ok: true, ...result }, null, 2)}\n`);
  // The listing is this command's result, so it goes to stdout, like `keys`.
  else streams.stdout.write(renderStatus(result, useColor(streams.stdout, streams.env)));
  return ExitCode.ok;
}

export function renderStatus(result: StatusResult, color: boolean): string {
  if (result.rotations.length === 0) return `No staged or unfinished rotation is recorded next to ${result.credentialsPath}.\n`;
  const paint = painter(color);
  const table = new Table({
    head: ['rotation', 'user', 'account', 'stage', 'old key', 'new key', 'since'],
    style: { head: color ? ['bold'] : [], border: color ? ['grey'] : [] },
  });
  for (const r of result.rotations) {
    table.push([
      r.mode === 'user' ? `--user ${r.userName}` : `--profile ${r.profile ?? '?'}`,
      r.userName,
      r.account,
      stageLabel(r, paint),
      maskKeyId(r.oldKeyId),
      r.newKeyId ? maskKeyId(r.newKeyId) : '-',
      (r.stage === 'retired' ? r.retiredAt : r.recordedAt)?.slice(0, 16).replace('T', ' ') ?? '-',
    ]);
  }
  // Below the table, one line each: a command wrapped in a table cell could not be copied.
  const next = result.rotations.map((r) => `  ${r.mode === 'user' ? `user ${r.userName}` : `profile ${r.profile ?? '?'}`}: ${r.next}`);
  return `Rotations recorded for ${result.credentialsPath}:\n${table.toString()}\nNext:\n${next.join('\n')}\n`;
}

function stageLabel(r: StatusEntry, paint: ReturnType<typeof painter>): string {
  if (r.stage === 'interrupted') return paint('red', `interrupted (${r.phase ?? '?'})`);
  return r.stage === 'created' ? paint('yellow', 'created') : paint('cyan', 'retired');
}
