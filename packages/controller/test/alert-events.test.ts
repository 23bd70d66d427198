import { describe, expect, it } from 'vitest';
import { closingOf, openingOf, planAlertEvents, type PublishedAlert } from '../src/fleet/alert-events.js';
import type { Alert } from '../src/fleet/alerts.js';
import { iso, T0 } from './support/statuses.js';

const vipAlert: Alert = {
  kind: 'vipNoAdvertiser',
  subject: 'vol1%198.18.200.1/32',
  key: 'vipNoAdvertiser:vol1%198.18.200.1/32',
  message: 'no node advertises vol1%198.18.200.1/32 (2 nodes with a rule for it)',
  since: T0,
};
const nodeAlert: Alert = {
  kind: 'nodeLost',
  subject: 'lb3',
  key: 'nodeLost:lb3',
  message: 'lb3 has not reported for 16 s',
  since: T0 + 1000,
};
const fleetAlert: Alert = {
  kind: 'ruleSetMismatch',
  subject: 'fleet',
  key: 'ruleSetMismatch:fleet',
  message: 'nodes run 2 different rule sets',
  since: T0,
};

const published = (a: Alert, done = true): [string, PublishedAlert] => [
  a.key,
  { opening: openingOf(a, a.since), published: done },
];

describe('alert events', () => {
  it('names what an alert is about: its VIP, its node, or neither', () => {
    expect(openingOf(vipAlert, T0 + 5)).toEqual({
      schema: 'rhi.v1.alert',
      event: 'alertOpened',
      id: `${vipAlert.key}@${iso(T0)}`,
      kind: 'vipNoAdvertiser',
      subject: vipAlert.subject,
      vip: vipAlert.subject,
      reason: vipAlert.message,
      since: iso(T0),
      time: iso(T0 + 5),
    });
    expect(openingOf(nodeAlert, T0)).toMatchObject({ node: 'lb3' });
    expect(openingOf(nodeAlert, T0)).not.toHaveProperty('vip');
    expect(openingOf(fleetAlert, T0)).not.toHaveProperty('node');
    expect(openingOf(fleetAlert, T0)).not.toHaveProperty('vip');
  });

  it('closes with the opening’s id, subject and reason', () => {
    const opening = openingOf(vipAlert, T0);
    expect(closingOf(opening, T0 + 9)).toEqual({ ...opening, event: 'alertClosed', time: iso(T0 + 9) });
  });

  it('opens what is new, closes what ended and leaves the rest', () => {
    const plan = planAlertEvents(
      [vipAlert, nodeAlert],
      new Map([published(vipAlert), published(fleetAlert)]),
      T0 + 2000,
    );
    expect(plan.open.map((e) => e.id)).toEqual([`nodeLost:lb3@${iso(T0 + 1000)}`]);
    expect(plan.close.map((e) => [e.id, e.event])).toEqual([
      [`ruleSetMismatch:fleet@${iso(T0)}`, 'alertClosed'],
    ]);
    expect(plan.republish).toEqual([]);
  });

  it('keeps the id another replica published, though this one saw the alert open later', () => {
    const later = { ...vipAlert, since: T0 + 30_000 };
    const plan = planAlertEvents([later], new Map([published(vipAlert)]), T0 + 40_000);
    expect(plan).toEqual({ open: [], republish: [], close: [] });
  });

  it('publishes again an opening claimed but not known stored, before closing it if it ended', () => {
    const plan = planAlertEvents(
      [vipAlert],
      new Map([published(vipAlert, false), published(nodeAlert, false)]),
      T0 + 5000,
    );
    expect(plan.republish.map((e) => e.id)).toEqual([
      `${vipAlert.key}@${iso(T0)}`,
      `nodeLost:lb3@${iso(T0 + 1000)}`,
    ]);
    expect(plan.close.map((e) => e.id)).toEqual([`nodeLost:lb3@${iso(T0 + 1000)}`]);
    expect(plan.open).toEqual([]);
  });
});
