import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { ConfigInvalidError, overrideFromFlag, overridesFromEnv, parseConfig } from './config/load.js';
import type { ControllerConfig } from './config/schema.js';
import { loadSigningKey, SigningKeyError, writeKeyPair } from './config/signing-key.js';
import { tokenHash } from './http/auth.js';
import { NatsAdminError } from './nats-admin/nats-admin.js';
import { natsCommand, NatsCommandUsageError } from './nats-admin/nats-command.js';
import { NatsRegistryError } from './nats-admin/registry.js';
import { NatsTlsError } from './nats-admin/tls.js';
import { ControllerRuntime } from './runtime.js';

const USAGE = `rhi-controller: the rhi fleet view over NATS JetStream

Usage:
  rhi-controller run   [--config F] [--set path=value ...]   run the controller (foreground)
  rhi-controller check [--config F]                          validate the configuration
  rhi-controller hash-token                                  read an API token on stdin, print the sha256
                                                             to put in api.tokens (the config never holds a token)
  rhi-controller keygen --out PATH                           write a rule-set signing key pair: PATH.key
                                                             (rules.signingKey, 0600) and PATH.pub (for each
                                                             agent's rules.trustedKeys); never overwrites
  rhi-controller nats init --dir D [--listen H:P] [--store-dir S] [--tls-hosts H1,H2]
                           [--cluster N1=H:P/H:P,N2=...,N3=...]
                                                             NATS users for the fleet (nkeys): D/registry.json,
                                                             the controller's and system user's seeds (0600),
                                                             D/auth.conf (every user inside accounts {}), and
                                                             D/nats-server.conf including it (unless there);
                                                             --cluster: D/nats-server.N.conf per server
                                                             (client/route listeners, routes to all, route TLS)
  rhi-controller nats add-node NAME --dir D [--labels k=v,...] [--reload PID|PIDFILE]
                                                             a node's user, allowed only its own subjects:
                                                             D/nodes/NAME.nk (its agent's nats.nkeyFile);
                                                             --reload sends nats-server SIGHUP (no restart)
  rhi-controller nats remove-node NAME --dir D [--reload PID|PIDFILE]
                                                             revoke it: its user gone at the reload
  rhi-controller nats tls --dir D --tls-hosts H1,H2 [--reload PID|PIDFILE]
                                                             a CA (made once) and a server certificate for
                                                             the hosts (openssl, P-256): D/tls/, D/tls.conf

--config defaults to $RHI_CONFIG or /etc/rhi/controller.yaml; any setting can be overridden with
--set <path>=<value> or RHI_<SECTION>__<KEY> (e.g. RHI_API__LISTEN=0.0.0.0:9190).
Exit status: 0 fine, 1 failed, 2 usage or configuration error.
`;

class UsageError extends Error {}

/** The controller's version: its package's. */
export function controllerVersion(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}

async function loadConfig(file: string, sets: readonly string[]): Promise<ControllerConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the configuration ${file}: ${(err as Error).message}`);
  }
  return parseConfig(text, file, [...overridesFromEnv(process.env), ...sets.map(overrideFromFlag)]);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

/** Runs `rhi-controller` with `argv`; resolves with the exit status (`run` resolves once stopped). */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        set: { type: 'string', multiple: true },
        out: { type: 'string' },
        dir: { type: 'string' },
        labels: { type: 'string' },
        listen: { type: 'string' },
        'store-dir': { type: 'string' },
        reload: { type: 'string' },
        'tls-hosts': { type: 'string' },
        cluster: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const [command] = positionals;
    if (values.help || command === undefined) {
      process.stdout.write(USAGE);
      return values.help ? 0 : 2;
    }
    const file = values.config ?? process.env['RHI_CONFIG'] ?? '/etc/rhi/controller.yaml';
    switch (command) {
      case 'hash-token': {
        const token = await readStdin();
        if (token.length < 16) throw new UsageError('give a token of at least 16 characters on stdin');
        process.stdout.write(`${tokenHash(token)}\n`);
        return 0;
      }
      case 'keygen': {
        if (!values.out) throw new UsageError('keygen needs --out PATH (PATH.key and PATH.pub are written)');
        const { privateFile, publicFile } = await writeKeyPair(values.out);
        process.stdout.write(
          `wrote ${privateFile} (private: rules.signingKey, mode 0600) and ${publicFile} (public: copy it to every agent, rules.trustedKeys.<keyId>)\n`,
        );
        return 0;
      }
      case 'nats':
        return await natsCommand(positionals.slice(1), values, (t) => process.stdout.write(t));
      case 'check': {
        const config = await loadConfig(file, values.set ?? []);
        const key = config.rules ? await loadSigningKey(config.rules) : null;
        process.stdout.write(
          `[ ok ] ${file} is valid: NATS ${config.nats.servers.join(', ')}, API on ${config.api.listen} with ${config.api.tokens.length} token(s)\n`,
        );
        process.stdout.write(
          key
            ? `[ ok ] rule sets are signed with ${config.rules?.signingKey} as key '${key.keyId}'${key.exposedMode ? ` (warning: mode ${key.exposedMode}, readable by others: chmod 0600 it)` : ''}\n`
            : '[note] no rules section: this controller shows the fleet and stores no rule set\n',
        );
        return 0;
      }
      case 'run': {
        const config = await loadConfig(file, values.set ?? []);
        const logger = pino({ level: process.env['RHI_LOG_LEVEL'] ?? 'info' });
        const runtime = await ControllerRuntime.start({ config, logger, version: controllerVersion() });
        await new Promise<void>((resolve) => {
          const stop = (signal: string) => {
            logger.info({ event: 'controllerStopping', signal }, 'stopping');
            void runtime.stop().then(resolve);
          };
          process.once('SIGTERM', () => stop('SIGTERM'));
          process.once('SIGINT', () => stop('SIGINT'));
        });
        return 0;
      }
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (err) {
    if (err instanceof SigningKeyError) {
      process.stderr.write(`rhi-controller: cannot sign rule sets: ${err.message}\n`);
      return 2;
    }
    if (err instanceof ConfigInvalidError) {
      process.stderr.write(`rhi-controller: ${err.message}\n`);
      return 2;
    }
    if (err instanceof NatsAdminError || err instanceof NatsRegistryError || err instanceof NatsTlsError) {
      process.stderr.write(`rhi-controller: ${err.message} (${err.code})\n`);
      return 2;
    }
    if (
      err instanceof UsageError ||
      err instanceof NatsCommandUsageError ||
      (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      process.stderr.write(`rhi-controller: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    process.stderr.write(`rhi-controller: ${(err as Error).message}\n`);
    return 1;
  }
}
