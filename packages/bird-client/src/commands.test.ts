import { describe, expect, it } from 'vitest';
import { birdCommands } from './commands.js';
import { BirdInvalidInputError } from './errors.js';

describe('birdCommands', () => {
  it.each([
    [birdCommands.showStatus(), 'show status'],
    [birdCommands.showSymbols(), 'show symbols'],
    [birdCommands.showRoute({ protocol: 'p'.repeat(64) }), `show route protocol ${'p'.repeat(64)}`],
    [birdCommands.showProtocols(), 'show protocols'],
    [birdCommands.showProtocols({ all: true, name: 'peer1' }), 'show protocols all peer1'],
    [birdCommands.showProtocols({ name: 'vol*' }), 'show protocols "vol*"'],
    [birdCommands.showRoute(), 'show route'],
    [birdCommands.showRoute({ table: 'master6', all: true }), 'show route table master6 all'],
    [birdCommands.showRoute({ protocol: 'vol1', count: true }), 'show route protocol vol1 count'],
    [birdCommands.showRoute({ for: '198.18.10.2' }), 'show route for 198.18.10.2'],
    [
      birdCommands.showRoute({ export: 'upstream1', protocol: 'vol1', count: true }),
      'show route export upstream1 protocol vol1 count',
    ],
    [birdCommands.showRoute({ prefix: '2001:2:0::1/128', all: true }), 'show route 2001:2::1/128 all'],
    [birdCommands.configure(), 'configure'],
    [birdCommands.configure({ mode: 'check' }), 'configure check'],
    [birdCommands.configure({ mode: 'soft', timeoutSeconds: 60 }), 'configure soft timeout 60'],
    [birdCommands.configure({ file: '/etc/bird/bird.conf' }), 'configure "/etc/bird/bird.conf"'],
    [birdCommands.configureConfirm(), 'configure confirm'],
    [birdCommands.configureUndo(), 'configure undo'],
    [birdCommands.configureStatus(), 'configure status'],
    [birdCommands.enable('vol1'), 'enable vol1'],
    [birdCommands.disable('vol*'), 'disable "vol*"'],
    [birdCommands.restart('peer1'), 'restart peer1'],
  ])('%s', (line, expected) => {
    expect(line).toBe(expected);
  });

  it.each([
    () => birdCommands.showRoute({ protocol: 'vol1 all; down' }),
    () => birdCommands.showRoute({ table: 'master4"' }),
    // BIRD refuses symbols above 64 characters ("Symbol too long").
    () => birdCommands.showRoute({ protocol: 'p'.repeat(65) }),
    () => birdCommands.showRoute({ prefix: '198.18.0.1/24' }),
    () => birdCommands.showProtocols({ name: 'a"b' }),
    () => birdCommands.disable('x\ndown'),
    () => birdCommands.configure({ timeoutSeconds: 0 }),
    () => birdCommands.configure({ file: 'a"; down' }),
  ])('rejects unsafe input %#', (build) => {
    expect(build).toThrow(BirdInvalidInputError);
  });
});
