import { describe, expect, it } from 'vitest';
import { checkCommand, splitCommand } from '../../src/rotation/deliveries/exec-command.js';

describe('splitCommand (--exec CMD, split as credential_process is: no shell)', () => {
  it.each([
    ['./store.sh', ['./store.sh']],
    ['vault kv put secret/ci -', ['vault', 'kv', 'put', 'secret/ci', '-']],
    [`store "ci keys" 'a b' c\\ d`, ['store', 'ci keys', 'a b', 'c d']],
    [`sh -c 'tee out | wc -c'`, ['sh', '-c', 'tee out | wc -c']],
    ['echo $HOME', ['echo', '$HOME']],
  ])('%s', async (command, argv) => {
    await expect(splitCommand(command)).resolves.toEqual(argv);
  });

  it.each(['cat | tee x', 'store > out', 'a && b', 'a ; b'])('%s: refused, it needs a shell (exit 2, with the sh -c fix)', async (command) => {
    await expect(splitCommand(command)).rejects.toEqual(expect.objectContaining({ code: 'BAD_EXEC_COMMAND', exitCode: 2, hint: expect.stringContaining("sh -c '…'") }));
  });

  it('an unclosed quote is refused', async () => {
    await expect(splitCommand(`store "ci`)).rejects.toEqual(expect.objectContaining({ code: 'BAD_EXEC_COMMAND', exitCode: 2 }));
  });
});

describe('checkCommand', () => {
  it('finds a program on PATH, and refuses one that is not there', async () => {
    await expect(checkCommand('sh -c true', { PATH: '/usr/bin:/bin' })).resolves.toEqual(['sh', '-c', 'true']);
    await expect(checkCommand('sh -c true', { PATH: '/nonexistent' })).rejects.toMatchObject({ code: 'EXEC_NOT_FOUND', exitCode: 2 });
    await expect(checkCommand('/nonexistent/store.sh')).rejects.toMatchObject({ code: 'EXEC_NOT_FOUND', message: expect.stringMatching(/was not found\.$/) });
  });
});
