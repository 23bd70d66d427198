import type { ApiCaller, RolloutRecord, RuleSetSummary } from '@rhi/contracts/fleet';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Api } from '../model/api.js';
import { rolloutDetail, rolloutRows, ticks, type RolloutList as List } from '../model/rollout-rows.js';
import { ErrorNote, failureOf, type Failure } from './error-note.js';
import { html } from './html.js';
import { RolloutControls } from './rollout-controls.js';
import { RolloutDetailView } from './rollout-detail.js';
import { RolloutList } from './rollout-list.js';
import { WhatIfForm } from './what-if-form.js';

/** What the rollouts view is given by the page. */
export interface RolloutsViewProps {
  readonly api: Api;
  /** Who is signed in: only an operator may act; a viewer sees the same page without the buttons. */
  readonly caller: ApiCaller | null;
  /** Bumped by the page at every `rollout` event of the live stream (and at each (re)connect). */
  readonly rolloutTick: number;
}

const LIST_LIMIT = 20;

/** The rollouts: the what-if of a candidate rule set, the one under way and the newest ones. */
export function RolloutsView({ api, caller, rolloutTick }: RolloutsViewProps) {
  const operator = caller?.role === 'operator';
  const [list, setList] = useState<List | null>(null);
  const [activeRecord, setActiveRecord] = useState<RolloutRecord | null>(null);
  const [listFailure, setListFailure] = useState<Failure | null>(null);
  const [chosen, setChosen] = useState<string | null>(null);
  const [record, setRecord] = useState<RolloutRecord | null>(null);
  const [detailFailure, setDetailFailure] = useState<Failure | null>(null);
  const [rulesets, setRulesets] = useState<readonly RuleSetSummary[]>([]);
  const [rulesetsFailure, setRulesetsFailure] = useState<Failure | null>(null);
  /** Bumped after this page's own actions: read everything again without waiting for the stream. */
  const [localTick, setLocalTick] = useState(0);
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    let gone = false;
    api
      .get<List>(`/api/v1/rollouts?limit=${LIST_LIMIT}`)
      .then(async (l) => {
        // The one under way may be older than the newest listed: read it too, to show it first.
        const missing = l.active !== null && !l.rollouts.some((r) => r.id === l.active);
        const active = missing
          ? await api
              .get<{ rollout: RolloutRecord }>(`/api/v1/rollouts/${encodeURIComponent(l.active!)}`)
              .then((a) => a.rollout)
              .catch(() => null)
          : null;
        if (gone) return;
        setList(l);
        setActiveRecord(active);
        setListFailure(null);
      })
      .catch((err: unknown) => !gone && setListFailure(failureOf(err)));
    return () => {
      gone = true;
    };
  }, [api, rolloutTick, localTick]);

  useEffect(() => {
    let gone = false;
    api
      .get<{ rulesets: RuleSetSummary[] }>('/api/v1/rulesets')
      .then((r) => {
        if (gone) return;
        setRulesets(r.rulesets);
        setRulesetsFailure(null);
      })
      .catch((err: unknown) => !gone && setRulesetsFailure(failureOf(err)));
    return () => {
      gone = true;
    };
  }, [api, rolloutTick, localTick]);

  const rows = useMemo(() => (list ? rolloutRows(list, activeRecord) : []), [list, activeRecord]);
  // The one picked, else the one under way, else the newest.
  const selected = chosen ?? rows[0]?.id ?? null;

  useEffect(() => {
    if (selected === null) {
      setRecord(null);
      return;
    }
    let gone = false;
    api
      .get<{ rollout: RolloutRecord }>(`/api/v1/rollouts/${encodeURIComponent(selected)}`)
      .then((a) => {
        if (gone) return;
        setRecord(a.rollout);
        setDetailFailure(null);
      })
      .catch((err: unknown) => !gone && setDetailFailure(failureOf(err)));
    return () => {
      gone = true;
    };
  }, [api, selected, rolloutTick, localTick]);

  const shownRecord = record && record.id === selected ? record : null;
  const moving = shownRecord !== null && ticks(shownRecord);
  useEffect(() => {
    if (!moving) return;
    setNow(Date.now());
    const every = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(every);
  }, [moving]);
  const detail = useMemo(() => (shownRecord ? rolloutDetail(shownRecord, now) : null), [shownRecord, now]);

  const changed = (r: RolloutRecord) => {
    setChosen(r.id);
    setRecord(r);
    setLocalTick((n) => n + 1);
  };

  return html`<section class="panel rollouts" aria-label="rollouts">
    <h2>Rollouts</h2>
    ${
      operator
        ? null
        : html`<p class="muted read-only" role="note">
            ${caller ? 'read only: viewer token' : 'read only: the token’s role is not known yet'}
          </p>`
    }
    <${ErrorNote} failure=${listFailure} />
    <div class="rollouts-layout">
      <div class="rollouts-main">
        ${list ? html`<${RolloutList} rows=${rows} selected=${selected} onSelect=${setChosen} />` : listFailure ? null : html`<p class="muted">reading the rollouts…</p>`}
        <${ErrorNote} failure=${detailFailure} />
        ${
          detail && shownRecord
            ? html`<${RolloutDetailView} d=${detail}>
                ${
                  operator
                    ? html`<${RolloutControls}
                        key=${shownRecord.id}
                        api=${api}
                        record=${shownRecord}
                        active=${list?.active ?? null}
                        rulesets=${rulesets}
                        onChanged=${changed}
                      />`
                    : null
                }
              </${RolloutDetailView}>`
            : null
        }
      </div>
      ${
        operator
          ? html`<div class="rollouts-side">
              <${ErrorNote} failure=${rulesetsFailure} />
              <${WhatIfForm}
                api=${api}
                rulesets=${rulesets}
                busyWith=${list?.active ?? null}
                onStarted=${changed}
              />
            </div>`
          : null
      }
    </div>
  </section>`;
}
