import { describe, expect, it } from 'vitest';
import {
  appendLogEntry,
  describeEvery,
  exitMeaning,
  hasCrontabEntry,
  JOB,
  lastLoggedRun,
  nextRun,
  parseEvery,
  renderCrontabLine,
  renderLaunchdPlist,
  renderLogEntry,
  renderSystemdService,
  renderSystemdTimer,
  renderTaskXml,
  windowsQuote,
  withCrontabEntry,
  withoutCrontabEntry,
  type ScheduleSpec,
} from '../../src/core/schedule.js';

const command = ['/usr/bin/node', '/opt/aws rekey/bin/aws-rekey', 'schedule', 'run', '--', 'rotate', '--yes', '--if-older-than', '90', '--profile', "bob's"];
const spec = (over: Partial<ScheduleSpec> = {}): ScheduleSpec => ({ every: { unit: 'day' }, command, env: { AWS_SHARED_CREDENTIALS_FILE: '/home/a/100%/creds' }, hour: 9, minute: 17, ...over });

describe('parseEvery', () => {
  const ok: Array<[string, unknown]> = [
    ['1h', { unit: 'hours', hours: 1 }],
    ['6h', { unit: 'hours', hours: 6 }],
    ['24h', { unit: 'day' }],
    ['1d', { unit: 'day' }],
    ['7d', { unit: 'week' }],
    ['1W', { unit: 'week' }],
  ];
  for (const [text, every] of ok) it(text, () => expect(parseEvery(text)).toEqual(every));
  for (const [text, every] of [[' 12H ', { unit: 'hours', hours: 12 }], ['1 h', { unit: 'hours', hours: 1 }], ['1 w', { unit: 'week' }]] as const) {
    it(`'${text}': spaces and case do not matter`, () => expect(parseEvery(text)).toEqual(every));
  }
  for (const bad of ['24d', '7h', '7w', '2w', '48h', 'x1h', '1hx', '1xh', '1.5h']) it(`refuses '${bad}'`, () => expect(() => parseEvery(bad)).toThrow(/is not a schedule aws-rekey can install/));
  it('the refusal lists what can be installed', () => {
    expect(() => parseEvery('5h')).toThrowError(
      expect.objectContaining({ message: "--every '5h' is not a schedule aws-rekey can install.", hint: 'Use 1h, 2h, 3h, 4h, 6h, 8h or 12h, 1d (daily) or 1w (weekly). The job only checks; --if-older-than decides when a key is rotated.' }),
    );
  });
  it('describeEvery', () => {
    expect([{ unit: 'hours', hours: 1 }, { unit: 'hours', hours: 6 }, { unit: 'day' }, { unit: 'week' }].map((every) => describeEvery(every as ScheduleSpec['every']))).toEqual([
      'every hour',
      'every 6 hours',
      'every day',
      'every week (Sunday)',
    ]);
  });
  for (const bad of ['5h', '2d', '0h', 'daily', '']) it(`refuses '${bad}'`, () => expect(() => parseEvery(bad)).toThrow(/is not a schedule aws-rekey can install/));
});

describe('nextRun (local time)', () => {
  const at = (y: number, mo: number, d: number, h: number, mi: number) => new Date(y, mo - 1, d, h, mi);
  const cases: Array<[string, ScheduleSpec['every'], Date, Date]> = [
    ['daily, before the time', { unit: 'day' }, at(2026, 11, 30, 8, 0), at(2026, 11, 30, 9, 17)],
    ['daily, at the time: the next day', { unit: 'day' }, at(2026, 11, 30, 9, 17), at(2026, 12, 1, 9, 17)],
    ['weekly: the next Sunday', { unit: 'week' }, at(2026, 11, 30, 10, 0), at(2026, 12, 6, 9, 17)],
    ['every 6 hours', { unit: 'hours', hours: 6 }, at(2026, 11, 30, 13, 20), at(2026, 11, 30, 18, 17)],
    ['hourly', { unit: 'hours', hours: 1 }, at(2026, 11, 30, 13, 20), at(2026, 11, 30, 14, 17)],
    ['hourly, at the time: the next hour', { unit: 'hours', hours: 1 }, at(2026, 11, 30, 14, 17), at(2026, 11, 30, 15, 17)],
    ['every 2 hours, at an odd hour: the next even one', { unit: 'hours', hours: 2 }, at(2026, 11, 30, 13, 20), at(2026, 11, 30, 14, 17)],
    ['every 12 hours, late: the next day', { unit: 'hours', hours: 12 }, at(2026, 11, 30, 23, 0), at(2026, 12, 1, 0, 17)],
    ['weekly, on Sunday before the time: that day', { unit: 'week' }, at(2026, 12, 6, 8, 0), at(2026, 12, 6, 9, 17)],
  ];
  for (const [name, every, now, next] of cases) it(name, () => expect(nextRun({ every, hour: 9, minute: 17 }, now)).toEqual(next));
});

describe('crontab', () => {
  it('one line: time, settings, the command quoted for sh, % escaped for cron, our marker', () => {
    expect(renderCrontabLine(spec())).toBe(
      `17 9 * * * AWS_SHARED_CREDENTIALS_FILE=/home/a/100\\%/creds /usr/bin/node '/opt/aws rekey/bin/aws-rekey' schedule run -- rotate --yes --if-older-than 90 --profile 'bob'\\''s' ${JOB.cronMarker}`,
    );
    expect(renderCrontabLine(spec({ every: { unit: 'hours', hours: 4 }, env: {} }))).toMatch(/^17 \*\/4 \* \* \* \/usr\/bin\/node /);
    expect(renderCrontabLine(spec({ every: { unit: 'week' }, env: {} }))).toMatch(/^17 9 \* \* 0 /);
  });

  it('installing twice keeps one line; the rest of the crontab stays; remove takes only ours', () => {
    const mine = '0 1 * * * backup.sh\n# a comment\n';
    const line = renderCrontabLine(spec());
    const once = withCrontabEntry(mine, line);
    const twice = withCrontabEntry(once, renderCrontabLine(spec({ minute: 5 })));
    expect(twice.split('\n').filter((l) => l.includes(JOB.cronMarker))).toHaveLength(1);
    expect(twice.startsWith(mine)).toBe(true);
    expect(hasCrontabEntry(twice)).toBe(true);
    expect(withoutCrontabEntry(twice)).toBe(mine);
    expect(withCrontabEntry('', line)).toBe(`${line}\n`);
    expect(withCrontabEntry('no newline at the end', line)).toBe(`no newline at the end\n${line}\n`);
  });
});

describe('systemd units', () => {
  it('a oneshot service with the command in systemd quoting, and a persistent timer', () => {
    expect(renderSystemdService(spec())).toBe(
      [
        '[Unit]',
        'Description=aws-rekey: rotate AWS access keys when they are due',
        '',
        '[Service]',
        'Type=oneshot',
        'Environment=AWS_SHARED_CREDENTIALS_FILE=/home/a/100%%/creds',
        `ExecStart=/usr/bin/node "/opt/aws rekey/bin/aws-rekey" schedule run -- rotate --yes --if-older-than 90 --profile "bob's"`,
        '',
      ].join('\n'),
    );
    const timer = renderSystemdTimer(spec());
    expect(timer).toContain('OnCalendar=*-*-* 09:17:00\nPersistent=true\n');
    expect(timer).toContain('[Install]\nWantedBy=timers.target\n');
    expect(renderSystemdTimer(spec({ every: { unit: 'week' } }))).toContain('OnCalendar=Sun *-*-* 09:17:00');
    expect(renderSystemdTimer(spec({ every: { unit: 'hours', hours: 3 } }))).toContain('OnCalendar=*-*-* 00/3:17:00');
  });
});

describe('whole files, as the schedulers read them', () => {
  const two = { AWS_SHARED_CREDENTIALS_FILE: '/c', AWS_CONFIG_FILE: '/d' };
  it('crontab: several settings, hourly', () => {
    expect(renderCrontabLine(spec({ every: { unit: 'hours', hours: 1 }, env: two, command: ['node', 'cli'] }))).toBe(`17 * * * * AWS_SHARED_CREDENTIALS_FILE=/c AWS_CONFIG_FILE=/d node cli ${JOB.cronMarker}`);
  });

  it('systemd: several settings; $ and % kept literal; quotes and backslashes escaped inside quotes', () => {
    expect(renderSystemdService(spec({ env: two, command: ['node', '$HOME/cli', 'a "b" c\\d'] }))).toBe(
      [
        '[Unit]',
        'Description=aws-rekey: rotate AWS access keys when they are due',
        '',
        '[Service]',
        'Type=oneshot',
        'Environment=AWS_SHARED_CREDENTIALS_FILE=/c',
        'Environment=AWS_CONFIG_FILE=/d',
        'ExecStart=node "$$HOME/cli" "a \\"b\\" c\\\\d"',
        '',
      ].join('\n'),
    );
  });

  it('systemd timer', () => {
    expect(renderSystemdTimer(spec({ every: { unit: 'hours', hours: 1 } }))).toBe(
      [
        '[Unit]',
        'Description=aws-rekey: rotate AWS access keys when they are due (every hour)',
        '',
        '[Timer]',
        'OnCalendar=*-*-* 00/1:17:00',
        'Persistent=true',
        '',
        '[Install]',
        'WantedBy=timers.target',
        '',
      ].join('\n'),
    );
  });

  it('launchd: every 6 hours, no settings', () => {
    const hour = (h: number) => `    <dict>\n      <key>Hour</key>\n      <integer>${h}</integer>\n      <key>Minute</key>\n      <integer>17</integer>\n    </dict>\n`;
    expect(renderLaunchdPlist(spec({ every: { unit: 'hours', hours: 6 }, env: {}, command: ['node', 'a>b'] }))).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n' +
        '<plist version="1.0">\n<dict>\n' +
        `  <key>Label</key>\n  <string>${JOB.launchdLabel}</string>\n` +
        '  <key>ProgramArguments</key>\n  <array>\n    <string>node</string>\n    <string>a&gt;b</string>\n  </array>\n' +
        '  <key>StartCalendarInterval</key>\n  <array>\n' +
        hour(0) +
        hour(6) +
        hour(12) +
        hour(18) +
        '  </array>\n' +
        '  <key>RunAtLoad</key>\n  <false/>\n' +
        '</dict>\n</plist>\n',
    );
  });

  it('Task Scheduler: daily', () => {
    expect(renderTaskXml(spec({ command: ['node.exe', 'cli', 'say "hi"'] }), new Date(2026, 10, 30, 12, 0))).toBe(
      [
        '<?xml version="1.0" encoding="UTF-16"?>',
        '<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">',
        '  <RegistrationInfo>',
        '    <Description>aws-rekey: rotate AWS access keys when they are due</Description>',
        '  </RegistrationInfo>',
        '  <Triggers>',
        '    <CalendarTrigger>',
        '      <StartBoundary>2026-11-30T09:17:00</StartBoundary>',
        '      <ScheduleByDay>',
        '        <DaysInterval>1</DaysInterval>',
        '      </ScheduleByDay>',
        '    </CalendarTrigger>',
        '  </Triggers>',
        '  <Principals>',
        '    <Principal id="Author">',
        '      <LogonType>InteractiveToken</LogonType>',
        '      <RunLevel>LeastPrivilege</RunLevel>',
        '    </Principal>',
        '  </Principals>',
        '  <Settings>',
        '    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>',
        '    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>',
        '    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>',
        '    <StartWhenAvailable>true</StartWhenAvailable>',
        '    <ExecutionTimeLimit>PT1H</ExecutionTimeLimit>',
        '  </Settings>',
        '  <Actions Context="Author">',
        '    <Exec>',
        '      <Command>node.exe</Command>',
        '      <Arguments>cli &quot;say \\&quot;hi\\&quot;&quot;</Arguments>',
        '    </Exec>',
        '  </Actions>',
        '</Task>',
        '',
      ].join('\n'),
    );
  });

  it('Task Scheduler: every few hours start at midnight and repeat for a day', () => {
    const xml = renderTaskXml(spec({ every: { unit: 'hours', hours: 4 } }), new Date(2026, 10, 30, 12, 0));
    expect(xml).toContain('<StartBoundary>2026-11-30T00:17:00</StartBoundary>\n      <Repetition>\n        <Interval>PT4H</Interval>\n        <Duration>P1D</Duration>\n      </Repetition>\n      <ScheduleByDay>');
  });
});

describe('launchd plist', () => {
  it('the label, each argument as a string (XML-escaped), the settings, and the calendar intervals', () => {
    const plist = renderLaunchdPlist(spec({ command: [...command, 'a<b&c'] }));
    expect(plist).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<!DOCTYPE plist/);
    expect(plist).toContain(`<key>Label</key>\n  <string>${JOB.launchdLabel}</string>`);
    expect(plist).toContain('    <string>/opt/aws rekey/bin/aws-rekey</string>\n');
    expect(plist).toContain('    <string>a&lt;b&amp;c</string>\n');
    expect(plist).toContain('<key>EnvironmentVariables</key>\n  <dict>\n    <key>AWS_SHARED_CREDENTIALS_FILE</key>\n    <string>/home/a/100%/creds</string>');
    expect(plist).toContain('<key>StartCalendarInterval</key>\n  <array>\n    <dict>\n      <key>Hour</key>\n      <integer>9</integer>\n      <key>Minute</key>\n      <integer>17</integer>\n    </dict>\n  </array>');
    expect(renderLaunchdPlist(spec({ every: { unit: 'week' } }))).toContain('<key>Weekday</key>\n      <integer>0</integer>');
    expect(renderLaunchdPlist(spec({ every: { unit: 'hours', hours: 6 } })).match(/<key>Hour<\/key>/g)).toHaveLength(4);
  });

  const plistLines = (environment: string[]) => [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    '<dict>',
    '  <key>Label</key>',
    '  <string>io.aws-rekey.rotate</string>',
    '  <key>ProgramArguments</key>',
    '  <array>',
    '    <string>/usr/bin/node</string>',
    '    <string>cli</string>',
    '  </array>',
    ...environment,
    '  <key>StartCalendarInterval</key>',
    '  <array>',
    '    <dict>',
    '      <key>Hour</key>',
    '      <integer>9</integer>',
    '      <key>Minute</key>',
    '      <integer>17</integer>',
    '    </dict>',
    '  </array>',
    '  <key>RunAtLoad</key>',
    '  <false/>',
    '</dict>',
    '</plist>',
    '',
  ].join('\n');

  it('the whole file, with its settings: one dict of strings, closed before the calendar', () => {
    const plist = renderLaunchdPlist(spec({ command: ['/usr/bin/node', 'cli'], env: { A: '1', 'B&': 'x<y' } }));
    expect(plist).toBe(
      plistLines([
        '  <key>EnvironmentVariables</key>',
        '  <dict>',
        '    <key>A</key>',
        '    <string>1</string>',
        '    <key>B&amp;</key>',
        '    <string>x&lt;y</string>',
        '  </dict>',
      ]),
    );
  });

  it('no settings: no EnvironmentVariables at all (not an empty dict)', () => {
    expect(renderLaunchdPlist(spec({ command: ['/usr/bin/node', 'cli'], env: {} }))).toBe(plistLines([]));
  });
});

describe('Task Scheduler XML', () => {
  it('a calendar trigger, the program and its arguments quoted as Windows reads them back', () => {
    const xml = renderTaskXml(spec({ command: ['C:\\Program Files\\nodejs\\node.exe', 'C:\\aws-rekey\\bin\\aws-rekey', 'rotate', '--profile', 'a "b"'] }), new Date(2026, 10, 30, 12, 0));
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-16"\?>\n<Task version="1.2" xmlns="http:\/\/schemas.microsoft.com\/windows\/2004\/02\/mit\/task">/);
    expect(xml).toContain('<StartBoundary>2026-11-30T09:17:00</StartBoundary>');
    expect(xml).toContain('<ScheduleByDay>\n        <DaysInterval>1</DaysInterval>');
    expect(xml).toContain('<Command>C:\\Program Files\\nodejs\\node.exe</Command>');
    expect(xml).toContain('<Arguments>C:\\aws-rekey\\bin\\aws-rekey rotate --profile &quot;a \\&quot;b\\&quot;&quot;</Arguments>');
    expect(xml).toContain('<StartWhenAvailable>true</StartWhenAvailable>');
    expect(renderTaskXml(spec({ every: { unit: 'week' } }), new Date(2026, 10, 30))).toContain('<DaysOfWeek>\n          <Sunday />');
    expect(renderTaskXml(spec({ every: { unit: 'hours', hours: 2 } }), new Date(2026, 10, 30))).toContain('<Interval>PT2H</Interval>');
  });

  const quoting: Array<[string, string]> = [
    ['plain', 'plain'],
    ['two words', '"two words"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['C:\\dir with space\\', '"C:\\dir with space\\\\"'],
    ['', '""'],
    ['C:\\two trailing\\\\', '"C:\\two trailing\\\\\\\\"'],
  ];
  for (const [value, quoted] of quoting) it(`windowsQuote(${JSON.stringify(value)})`, () => expect(windowsQuote(value)).toBe(quoted));
});

describe('the log', () => {
  const entry = (n: number, exitCode: number) =>
    renderLogEntry({ startedAt: new Date(Date.UTC(2026, 10, n, 9, 17)), finishedAt: new Date(Date.UTC(2026, 10, n, 9, 18)), args: ['rotate', '--yes'], output: `run ${n}`, exitCode });

  it('a start line, the output, an end line with the exit code and its meaning', () => {
    expect(entry(1, 3)).toBe('=== 2026-11-01T09:17:00.000Z run: aws-rekey rotate --yes\nrun 1\n=== 2026-11-01T09:18:00.000Z exit 3 (rotation incomplete)\n');
  });

  it('the last run is the last entry; a run without an end line has no exit code', () => {
    const log = entry(1, 0) + entry(2, 1);
    expect(lastLoggedRun(log)).toEqual({ startedAt: '2026-11-02T09:17:00.000Z', finishedAt: '2026-11-02T09:18:00.000Z', exitCode: 1 });
    expect(lastLoggedRun(`${log}=== 2026-11-03T09:17:00.000Z run: aws-rekey rotate\nhalf\n`)).toEqual({ startedAt: '2026-11-03T09:17:00.000Z' });
    expect(lastLoggedRun('')).toBeUndefined();
  });

  it('output: an end of line added when missing, none to an empty output or one that has it', () => {
    const at = { startedAt: new Date(Date.UTC(2026, 10, 1, 9, 17)), finishedAt: new Date(Date.UTC(2026, 10, 1, 9, 18)), args: ['rotate'], exitCode: 0 };
    const head = '=== 2026-11-01T09:17:00.000Z run: aws-rekey rotate\n';
    const tail = '=== 2026-11-01T09:18:00.000Z exit 0 (ok)\n';
    expect(renderLogEntry({ ...at, output: '' })).toBe(head + tail);
    expect(renderLogEntry({ ...at, output: 'done\n' })).toBe(`${head}done\n${tail}`);
    expect(renderLogEntry({ ...at, output: '\ndone' })).toBe(`${head}\ndone\n${tail}`);
  });

  it('exit codes in words; an unknown one is a failure', () => {
    expect([0, 1, 2, 3, 130, 4, 42].map(exitMeaning)).toEqual(['ok', 'failed', 'usage error', 'rotation incomplete', 'interrupted', 'failed', 'failed']);
  });

  it('a run whose output quotes a start line mid-line stays one run', () => {
    const quoting = renderLogEntry({ startedAt: new Date(Date.UTC(2026, 10, 9, 9, 17)), finishedAt: new Date(Date.UTC(2026, 10, 9, 9, 18)), args: ['rotate'], output: 'saw: === 2026-11-01T09:17:00.000Z run: aws-rekey x', exitCode: 0 });
    expect(appendLogEntry(entry(1, 0), quoting, 1)).toBe(quoting);
    expect(appendLogEntry('', entry(1, 0))).toBe(entry(1, 0));
  });

  it('keeps the last runs only', () => {
    let log = '';
    for (let n = 1; n <= 5; n += 1) log = appendLogEntry(log, entry(n, 0), 3);
    expect(log).toBe(entry(3, 0) + entry(4, 0) + entry(5, 0));
  });
});
