import { describe, expect, it } from 'vitest';
import { fixtureReply } from '../test/support/fixtures.js';
import { parseConfigError, parseConfigureReply, parseProtocolAction } from './parse-configure.js';

describe('parseConfigureReply', () => {
  it.each([
    ['configure', 'reconfigured', undefined],
    ['configure-soft', 'reconfigured', undefined],
    ['configure-check', 'ok', undefined],
    ['configure-timeout', 'reconfigured', 60],
    ['configure-status', 'status', expect.closeTo(60, 0)],
    ['configure-confirm', 'confirmed', undefined],
    ['configure-undo-nothing', 'reconfigured', undefined],
    ['configure-in-progress', 'in-progress', undefined],
    ['configure-queued', 'queued', undefined],
    ['configure-after-queue', 'reconfigured', undefined],
    ['configure-after-disable', 'reconfigured', undefined],
  ])('%s → %s', (name, outcome, undo) => {
    const result = parseConfigureReply(fixtureReply(name));
    expect(result?.outcome).toBe(outcome);
    expect(result?.undoInSeconds).toEqual(undo);
  });

  it('reads the config file BIRD read', () => {
    expect(parseConfigureReply(fixtureReply('configure'))?.configFile).toMatch(
      /^\/tmp\/rhi-bird-capture-\w+\/injector\.conf$/,
    );
    expect(parseConfigureReply(fixtureReply('configure-confirm'))?.configFile).toBeUndefined();
  });

  it('returns undefined for an error reply', () => {
    expect(parseConfigureReply(fixtureReply('configure-syntax-error'))).toBeUndefined();
  });
});

describe('parseConfigError', () => {
  it('reads file, line, column and message of a syntax error in the include', () => {
    const error = parseConfigError(fixtureReply('configure-syntax-error').text);
    expect(error).toMatchObject({
      line: 5,
      column: 24,
      message: 'syntax error, unexpected CF_SYM_UNDEFINED',
    });
    expect(error.file).toMatch(/rhi-routes\.conf$/);
  });

  it('reads a syntax error in the main config, which fails every configure', () => {
    const error = parseConfigError(fixtureReply('configure-broken-main').text);
    expect(error).toMatchObject({
      line: 11,
      column: 10,
      message: 'syntax error, unexpected CF_SYM_UNDEFINED',
    });
    expect(error.file).toMatch(/injector\.conf$/);
  });

  it('reads a missing include', () => {
    const error = parseConfigError(fixtureReply('configure-missing-include').text);
    expect(error.file).toMatch(/injector\.conf$/);
    expect(error.line).toBe(4);
    expect(error.message).toMatch(
      /^Unable to open included file .*rhi-routes\.conf: No such file or directory$/,
    );
  });

  it('keeps a message without a location whole', () => {
    expect(parseConfigError('Something odd')).toEqual({
      file: undefined,
      line: undefined,
      column: undefined,
      message: 'Something odd',
    });
  });
});

describe('parseProtocolAction', () => {
  it.each([
    ['disable', 9, 'disabled'],
    ['disable-again', 8, 'already disabled'],
    ['enable', 11, 'enabled'],
    ['enable-again', 10, 'already enabled'],
    ['restart', 12, 'restarted'],
    // While the main config has a syntax error: `disable` works. The next configure that succeeds
    // restarts the protocol by itself, so `enable` finds it enabled.
    ['disable-while-broken', 9, 'disabled'],
    ['enable-after-configure', 10, 'already enabled'],
  ])('%s', (name, replyCode, result) => {
    expect(parseProtocolAction(fixtureReply(name))).toEqual([{ protocol: 'vol1', result, replyCode }]);
  });
});
