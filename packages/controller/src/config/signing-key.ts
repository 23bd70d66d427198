import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import type { ControllerConfig } from './schema.js';

/** The key the controller signs rule sets with, as read at start. */
export interface SigningKey {
  readonly keyId: string;
  readonly privateKeyPem: string;
  /** What the agents put in `rules.trustedKeys.<keyId>`. */
  readonly publicKeyPem: string;
  /** Set when others than the owner may read the key file: worth a warning at start. */
  readonly exposedMode?: string;
}

/** The signing key cannot be used: the controller does not start. */
export class SigningKeyError extends Error {
  readonly code = 'SIGNING_KEY_UNUSABLE';
  constructor(
    readonly path: string,
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${path} (${file}): ${reason}`);
    this.name = 'SigningKeyError';
  }
}

/** Reads and checks `rules.signingKey`: readable, and an ed25519 private key. */
export async function loadSigningKey(rules: NonNullable<ControllerConfig['rules']>): Promise<SigningKey> {
  const file = rules.signingKey;
  const fail = (reason: string) => new SigningKeyError('rules.signingKey', file, reason);
  let pem: string;
  let mode: number;
  try {
    [pem, mode] = await Promise.all([readFile(file, 'utf8'), stat(file).then((s) => s.mode)]);
  } catch (err) {
    throw fail(`cannot read it: ${(err as Error).message}`);
  }
  let key;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw fail(
      /PUBLIC KEY/.test(pem)
        ? 'it is a public key: the controller needs the private key (the agents get the public one)'
        : 'not a private key in PEM (expected -----BEGIN PRIVATE KEY-----)',
    );
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw fail(`an ${key.asymmetricKeyType ?? 'unknown'} key: rule sets are signed with ed25519 only`);
  const publicKeyPem = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
  const exposed = mode & 0o077;
  return {
    keyId: rules.keyId,
    privateKeyPem: pem,
    publicKeyPem,
    ...(exposed ? { exposedMode: (mode & 0o777).toString(8).padStart(4, '0') } : {}),
  };
}

/**
 * Writes a new ed25519 key pair: `<out>.key` (private, 0600) and `<out>.pub` (public, for the agents).
 * Refuses to overwrite either file.
 */
export async function writeKeyPair(out: string): Promise<{ privateFile: string; publicFile: string }> {
  const privateFile = `${out}.key`;
  const publicFile = `${out}.pub`;
  for (const f of [privateFile, publicFile]) {
    const there = await stat(f).then(
      () => true,
      () => false,
    );
    if (there) throw new Error(`${f} exists: a key is never overwritten (move it away first)`);
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  await writeFile(privateFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
    flag: 'wx',
  });
  await writeFile(publicFile, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644, flag: 'wx' });
  return { privateFile, publicFile };
}
