// The HAProxy configuration whose replies are stored under test/fixtures/: one proxy per state that the
// health model must tell apart. Shared by the capture script and the tests that check its expectations.

/** Sections for `startHaproxy`; `up` answers 200 (and 404 on /nolb), `closed` is a stopped backend port. */
export function fixtureSections(dir: string, up: number, closed: number): string {
  const check = 'check inter 100 rise 2 fall 2';
  return `
frontend fe_open
    bind unix@${dir}/fe_open.sock
    default_backend be_mixed
frontend fe_paused
    bind unix@${dir}/fe_paused.sock
    default_backend be_mixed
listen li_sockets
    bind unix@${dir}/li.sock name sock1
    option socket-stats
    server s1 127.0.0.1:${up} ${check}
backend be_mixed
    option httpchk GET /
    server up1 127.0.0.1:${up} ${check}
    server down1 127.0.0.1:${closed} ${check}
    server maint1 127.0.0.1:${up} ${check}
    server drain1 127.0.0.1:${up} ${check}
    server nocheck1 127.0.0.1:${up}
    server bk1 127.0.0.1:${up} ${check} backup
    server trk1 127.0.0.1:${up} track be_mixed/maint1
backend be_nolb
    option httpchk GET /nolb
    http-check disable-on-404
    server s1 127.0.0.1:${up} ${check}
backend be_empty
backend be_all_maint
    server s1 127.0.0.1:${up} ${check}
backend be_backup_only
    server a1 127.0.0.1:${up} ${check}
    server b1 127.0.0.1:${up} ${check} backup
backend be_weight0
    server s1 127.0.0.1:${up} ${check}
backend be_drain
    server s1 127.0.0.1:${up} ${check}
backend be_down
    server s1 127.0.0.1:${closed} ${check}
`;
}

/** Runtime commands applied after start to reach the captured state. */
export const FIXTURE_CHANGES: readonly string[] = [
  'disable frontend fe_paused',
  'disable server be_mixed/maint1',
  'set server be_mixed/drain1 state drain',
  'disable server be_all_maint/s1',
  'disable server be_backup_only/a1',
  'set server be_weight0/s1 weight 0',
  'set server be_drain/s1 state drain',
];

/** What `show stat` must say once the fixture state is reached (checked before capturing, and by tests). */
export const FIXTURE_EXPECTED = {
  frontends: { fe_open: 'OPEN', fe_paused: 'PAUSED', li_sockets: 'OPEN' },
  backends: {
    be_mixed: 'UP',
    be_nolb: 'DOWN',
    be_empty: 'UP',
    be_all_maint: 'DOWN',
    be_backup_only: 'UP',
    be_weight0: 'DOWN',
    be_drain: 'DOWN',
    be_down: 'DOWN',
    li_sockets: 'UP',
  },
  servers: {
    'be_mixed/up1': 'UP',
    'be_mixed/down1': 'DOWN',
    'be_mixed/maint1': 'MAINT',
    'be_mixed/drain1': 'DRAIN',
    'be_mixed/nocheck1': 'no check',
    'be_mixed/bk1': 'UP',
    'be_mixed/trk1': 'MAINT (via be_mixed/maint1)',
    'be_nolb/s1': 'NOLB',
    'be_all_maint/s1': 'MAINT',
    'be_backup_only/a1': 'MAINT',
    'be_backup_only/b1': 'UP',
    'be_weight0/s1': 'UP',
    'be_drain/s1': 'DRAIN',
    'be_down/s1': 'DOWN',
    'li_sockets/s1': 'UP',
  },
} as const;
