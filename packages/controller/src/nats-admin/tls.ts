import { execFile } from 'node:child_process';
import { isIP } from 'node:net';
import { access, chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The files `rhi-controller nats tls` writes under the directory's `tls/`. */
export const tlsFiles = {
  dir: 'tls',
  caKey: join('tls', 'ca.key'),
  ca: join('tls', 'ca.pem'),
  serverKey: join('tls', 'server.key'),
  server: join('tls', 'server.pem'),
  conf: 'tls.conf',
} as const;

/** A host name or address that cannot be in a certificate, or openssl failing. */
export class NatsTlsError extends Error {
  constructor(
    readonly code: 'NATS_TLS_HOST_INVALID' | 'NATS_TLS_OPENSSL_FAILED',
    message: string,
  ) {
    super(message);
    this.name = 'NatsTlsError';
  }
}

const HOSTNAME =
  /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** The subjectAltName of a server certificate for `hosts` (names and addresses). Pure. */
export function subjectAltName(hosts: readonly string[]): string {
  if (hosts.length === 0)
    throw new NatsTlsError('NATS_TLS_HOST_INVALID', 'give at least one host the servers are reached by');
  return hosts
    .map((h) => {
      if (isIP(h)) return `IP:${h}`;
      if (HOSTNAME.test(h)) return `DNS:${h}`;
      throw new NatsTlsError('NATS_TLS_HOST_INVALID', `'${h}' is neither a host name nor an IP address`);
    })
    .join(',');
}

/** The `tls {}` block nats-server includes: client connections need TLS, verified against the CA. Pure. */
export function renderTlsConfig(dir: string): string {
  return [
    '# Written by rhi-controller nats tls: clients must speak TLS; the agents and the controller verify',
    '# the server against ca.pem (their nats.tls.ca). Routes of a cluster are secured apart (cluster { tls }).',
    'tls {',
    `  cert_file: ${JSON.stringify(join(dir, tlsFiles.server))}`,
    `  key_file: ${JSON.stringify(join(dir, tlsFiles.serverKey))}`,
    `  ca_file: ${JSON.stringify(join(dir, tlsFiles.ca))}`,
    '  timeout: 2',
    '}',
    '',
  ].join('\n');
}

async function openssl(args: readonly string[]): Promise<void> {
  try {
    await run('openssl', [...args]);
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new NatsTlsError(
      'NATS_TLS_OPENSSL_FAILED',
      `openssl ${args[0]} failed: ${(e.stderr ?? e.message).trim()}`,
    );
  }
}

/**
 * `rhi-controller nats tls`: a CA (made once, kept) and a server certificate for `hosts` signed by it
 * (P-256 keys, 0600; for client and route connections alike, so it is a TLS client too: the servers of
 * a cluster present it to each other), and `tls.conf` for the server to include. Run again to renew the server's
 * certificate (new hosts, or before `days` run out): the CA, which every client trusts, stays.
 */
export async function natsTls(dir: string, hosts: readonly string[], days = 825): Promise<string[]> {
  const san = subjectAltName(hosts);
  const root = resolve(dir);
  await mkdir(join(root, tlsFiles.dir), { recursive: true, mode: 0o700 });
  const p = (f: string) => join(root, f);
  const written: string[] = [];
  const caThere = await access(p(tlsFiles.ca)).then(
    () => true,
    () => false,
  );
  if (!caThere) {
    await openssl([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      p(tlsFiles.caKey),
      '-out',
      p(tlsFiles.ca),
      '-days',
      '3650',
      '-subj',
      '/CN=rhi NATS CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    written.push(p(tlsFiles.caKey), p(tlsFiles.ca));
  }
  const csr = p(join(tlsFiles.dir, 'server.csr'));
  const ext = p(join(tlsFiles.dir, 'server.ext'));
  await openssl([
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    p(tlsFiles.serverKey),
    '-out',
    csr,
    '-subj',
    `/CN=${hosts[0]}`,
  ]);
  await writeFile(
    ext,
    `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n`,
  );
  await openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    p(tlsFiles.ca),
    '-CAkey',
    p(tlsFiles.caKey),
    '-CAcreateserial',
    '-out',
    p(tlsFiles.server),
    '-days',
    String(days),
    '-extfile',
    ext,
  ]);
  await rm(csr, { force: true });
  await rm(ext, { force: true });
  await chmod(p(tlsFiles.serverKey), 0o600);
  if (!caThere) await chmod(p(tlsFiles.caKey), 0o600);
  await writeFile(p(tlsFiles.conf), renderTlsConfig(root), { mode: 0o640 });
  written.push(p(tlsFiles.serverKey), p(tlsFiles.server), p(tlsFiles.conf));
  return written;
}
