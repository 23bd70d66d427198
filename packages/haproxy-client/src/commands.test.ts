import { describe, expect, it } from 'vitest';
import * as commands from './commands.js';
import { HaproxyBadArgumentError } from './errors.js';

describe('command builders', () => {
  it.each([
    [commands.showStat(), 'show stat'],
    [commands.showStat(['frontend', 'backend']), 'show stat -1 3 -1'],
    [commands.showStat(['frontend', 'backend', 'server']), 'show stat -1 7 -1'],
    [commands.showStat(['listener']), 'show stat -1 8 -1'],
    [commands.showInfo(), 'show info'],
    [commands.showServersState(), 'show servers state'],
    [commands.showServersState('be'), 'show servers state be'],
    [commands.showEvents('events'), 'show events events -w -n'],
    [commands.showEvents('events', { fromEnd: false }), 'show events events -w'],
    [commands.showEvents('events', { wait: false }), 'show events events -n'],
    [commands.showEventSinks(), 'show events'],
    [commands.disableServer('be', 's1'), 'disable server be/s1'],
    [commands.enableServer('be', 's1'), 'enable server be/s1'],
    [commands.setServerState('be', 's1', 'drain'), 'set server be/s1 state drain'],
    [commands.setServerHealth('be', 's1', 'stopping'), 'set server be/s1 health stopping'],
    [commands.setServerWeight('be', 's1', 0), 'set server be/s1 weight 0'],
    [commands.disableFrontend('fe'), 'disable frontend fe'],
    [commands.enableFrontend('fe'), 'enable frontend fe'],
    [commands.joinCommands(['show info', 'show stat']), 'show info;show stat'],
  ])('%s', (built, line) => expect(built).toBe(line));

  it('escapes ; and \\ so an argument cannot start another command', () => {
    expect(commands.escapeArgument('a;b\\c')).toBe('a\\;b\\\\c');
    expect(commands.disableServer('be;shutdown', 's')).toBe('disable server be\\;shutdown/s');
  });

  it.each(['', 'a b', 'a\nshow info', 'a\tb', 'a\u0000'])('refuses the argument %j', (arg) => {
    expect(() => commands.disableFrontend(arg)).toThrow(HaproxyBadArgumentError);
  });

  it.each([-1, 257, 1.5, Number.NaN])('refuses the weight %d', (w) => {
    expect(() => commands.setServerWeight('be', 's', w)).toThrow(HaproxyBadArgumentError);
  });
});
