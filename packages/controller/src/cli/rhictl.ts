import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { VipView } from '../fleet/vip-view.js';
import type { TimelineEntry } from '../ports.js';
import type { NodeSummary, VipSummary } from '../view/summaries.js';
import { ApiCallError, ApiClient } from './api-client.js';
import { RhictlUsageError, type Output } from './command.js';
import type { ApiAlert } from './render.js';
import { renderNode, type NodeDetail } from './render-node.js';
import { renderAlerts, renderEvent, renderExplain, renderNodes, renderStatus, renderVips } from './render.js';
import { drain } from './drain.js';
import { rollout } from './rollout.js';
import { rules } from './rules.js';

const USAGE = `rhictl: the rhi fleet, from the controller's API

Usage:
  rhictl status                        nodes, VIPs and open alerts (exit 1 while an alert is open)
  rhictl nodes                         every node: liveness, rule set, drain, daemons
  rhictl nodes <node>                  one node: the above in full, its routes and its HAProxy health
                                       (exits 0 for a lost node too: its state says LOST)
  rhictl vips                          every VIP: advertisers against its minimum
  rhictl explain <vip> [--node N]      who advertises a VIP (table%prefix, e.g. vol1%198.18.200.1/32) and why not
  rhictl alerts                        the open alerts (exit 1 while one is open)
  rhictl events [--node N] [--vip V] [--since T] [--until T] [--limit N] [--follow]

Rule sets:
  rhictl rules lint <file>...          check rules files here, as rhi-rules lint does (no controller needed):
                                       each error and warning at file:line:column with a caret, on stderr;
                                       exit 1 when a file has errors or no rule at all (the controller
                                       refuses it: RULESET_EMPTY); warnings alone: 0
  rhictl rules whatif <file> [--target SEL]
  rhictl rules whatif --serial N [--target SEL]
                                       what a rule set would change on the targeted nodes (default: all,
                                       or the stored serial's target; SEL e.g. site=par1,role=edge), and
                                       whether the guard allows it: exit 0 allowed, 1 blocked or invalid
  rhictl rules history [--limit N] [--before S]
                                       the stored rule sets, newest first (before serial S)
  rhictl rules show <serial>           the text as stored, on stdout (rules show 7 > rules.cfg gives the
                                       file back); its summary on stderr
  rhictl rules diff <serial> <serial | file>
                                       route by route (table%prefix): - only in the first, + only in the
                                       second, ~ another rule; exit 0 the same, 1 different, 2 a text with
                                       errors (digits alone are a serial: write ./7 for a file named 7)
  rhictl rules push <file> -m MSG [--target SEL] [strategy] [--force REASON] [--wait]
  rhictl rules push --serial N [strategy] [--wait]
                                       store the file (linted, signed) and roll it out staged: the guard
                                       first (a blocked one changes nothing: exit 1, unless --force with a
                                       reason, which is recorded), then the canary, then batches, each
                                       gated on every node's ack, the soak and the fleet's health; stopped
                                       and rolled back by itself on a rejection, a missing ack, a VIP
                                       losing advertisers or a new alert. --wait follows it to its end:
                                       exit 0 completed, 1 rolled back, aborted or failed
  rhictl rules rollback --to N [-m MSG] [--wait]
                                       roll every targeted node back to serial N's rules (re-issued at a
                                       fresh serial), all at once: no canary, no soak unless given

Strategy: --canary 1|10%|site=par1|none (default 1), --batch 5|25% (default 25%), --soak 2m
(default 2m), --ack-timeout 2m (default 2m).

Rollouts (one at a time; ID defaults to the one under way):
  rhictl rollout status [ID] [--watch] where it is: each step's acks, soak and gate, why it stopped;
                                       exit 1 when it rolled back, was aborted or failed
  rhictl rollout list [--limit N]      the newest rollouts (* under way)
  rhictl rollout pause [ID] [--reason R]
  rhictl rollout resume [ID]
  rhictl rollout abort [ID] --reason R stop it and roll back every node that got its rule set
  rhictl rollout rollback [ID] --to N --reason R
                                       roll its nodes back to serial N's rules (re-issued), stopping it

Drains (the same minimum-advertiser guard: a drain that would leave a VIP below its minimum sends
nothing and exits 1, unless --force with a reason, which is recorded):
  rhictl drain <node> | --selector SEL [--reason R] [--force R] [--wait-sessions N [--timeout S]]
                                       --wait-sessions: de-prefer the routes (MED and local-pref worst)
                                       and withdraw them once HAProxy's sessions fall to N, or after S
                                       seconds (default the agent's)
  rhictl undrain <node> | --selector SEL
                                       exit 0 when every node applied it, 1 when one rejected it or did
                                       not answer

Options: --json (the API's answer as it is; lint: each file's diagnostics, diff: {onlyA, onlyB, changed}),
--url U (default $RHICTL_URL or http://127.0.0.1:9190),
--token-file F (default $RHICTL_TOKEN_FILE; or the token itself in $RHICTL_TOKEN).
Exit status: 0 fine, 1 an alert is open, lint errors, a what-if or push blocked or invalid, a diff
found (rules diff: 2 when a text has errors), a rollout stopped,
2 usage error (a missing file or bad serial too), 3 the controller cannot be reached, refused, or
serves a stale view (it cannot reach NATS), 4 no such node, VIP, rule set serial or rollout.
`;

/** Runs `rhictl` with `argv`; resolves with the exit status. */
export async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
  out: Output = process.stdout,
  err: Output = process.stderr,
): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        url: { type: 'string' },
        'token-file': { type: 'string' },
        node: { type: 'string' },
        vip: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        limit: { type: 'string' },
        follow: { type: 'boolean' },
        target: { type: 'string' },
        serial: { type: 'string' },
        before: { type: 'string' },
        message: { type: 'string', short: 'm' },
        canary: { type: 'string' },
        batch: { type: 'string' },
        soak: { type: 'string' },
        'ack-timeout': { type: 'string' },
        force: { type: 'string' },
        wait: { type: 'boolean' },
        watch: { type: 'boolean' },
        to: { type: 'string' },
        reason: { type: 'string' },
        selector: { type: 'string' },
        'wait-sessions': { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const [command, ...rest] = positionals;
    if (values.help || command === undefined) {
      out.write(USAGE);
      return command === undefined && !values.help ? 2 : 0;
    }
    const client = async () => {
      const tokenFile = values['token-file'] ?? env['RHICTL_TOKEN_FILE'];
      const token = tokenFile ? (await readFile(tokenFile, 'utf8')).trim() : env['RHICTL_TOKEN'];
      if (!token)
        throw new RhictlUsageError('no API token: give --token-file, $RHICTL_TOKEN_FILE or $RHICTL_TOKEN');
      return new ApiClient(values.url ?? env['RHICTL_URL'] ?? 'http://127.0.0.1:9190', token);
    };
    if (command === 'rules') return await rules(rest, { options: values, api: client, out, err });
    if (command === 'rollout') return await rollout(rest, { options: values, api: client, out, err });
    if (command === 'drain' || command === 'undrain')
      return await drain(command, rest, { options: values, api: client, out, err });
    const api = await client();
    const print = (json: unknown, text: string) =>
      out.write(`${values.json ? JSON.stringify(json, null, 2) : text}\n`);
    const staleExit = (stale: boolean, otherwise: number) => (stale ? 3 : otherwise);

    switch (command) {
      case 'status': {
        const [nodes, vips, alerts] = await Promise.all([
          api.get<{ nodes: NodeSummary[] }>('/api/v1/nodes'),
          api.get<{ vips: VipSummary[] }>('/api/v1/vips'),
          api.get<{ alerts: ApiAlert[] }>('/api/v1/alerts'),
        ]);
        const stale = nodes.stale || vips.stale || alerts.stale;
        const view = { nodes: nodes.body.nodes, vips: vips.body.vips, alerts: alerts.body.alerts, stale };
        print(view, renderStatus(view));
        return staleExit(stale, view.alerts.length ? 1 : 0);
      }
      case 'nodes': {
        if (rest.length > 1 || rest[0] === '')
          throw new RhictlUsageError('nodes takes at most one node name');
        const name = rest[0];
        if (name !== undefined) {
          const d = await api.get<NodeDetail>(`/api/v1/nodes/${encodeURIComponent(name)}`);
          print(d.body, renderNode(d.body, d.stale, Date.now()));
          return staleExit(d.stale, 0);
        }
        const r = await api.get<{ nodes: NodeSummary[] }>('/api/v1/nodes');
        print(r.body, renderNodes(r.body.nodes, r.stale));
        return staleExit(r.stale, 0);
      }
      case 'vips': {
        const r = await api.get<{ vips: VipSummary[] }>('/api/v1/vips');
        print(r.body, renderVips(r.body.vips, r.stale));
        return staleExit(r.stale, 0);
      }
      case 'explain': {
        const id = rest[0];
        if (!id) throw new RhictlUsageError('explain needs a VIP: rhictl explain vol1%198.18.200.1/32');
        const r = await api.get<{ vip: VipView }>(`/api/v1/vips/${encodeURIComponent(id)}`);
        if (values.node !== undefined && !r.body.vip.nodes.some((n) => n.node === values.node)) {
          err.write(`rhictl: node ${values.node} has no rule for ${id}\n`);
          return 4;
        }
        print(r.body, renderExplain(r.body.vip, values.node, r.stale));
        return staleExit(r.stale, 0);
      }
      case 'alerts': {
        const r = await api.get<{ alerts: ApiAlert[] }>('/api/v1/alerts');
        print(r.body, renderAlerts(r.body.alerts, r.stale));
        return staleExit(r.stale, r.body.alerts.length ? 1 : 0);
      }
      case 'events':
        return await events(api, values, out);
      default:
        throw new RhictlUsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    if (e instanceof RhictlUsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      err.write(`rhictl: ${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if (e instanceof ApiCallError) {
      err.write(`rhictl: ${e.message} (${e.code})\n`);
      return e.status === 404 ? 4 : e.status === 400 ? 2 : 3;
    }
    err.write(`rhictl: ${(e as Error).message}\n`);
    return 3;
  }
}

async function events(
  api: ApiClient,
  values: {
    node?: string;
    vip?: string;
    since?: string;
    until?: string;
    limit?: string;
    follow?: boolean;
    json?: boolean;
  },
  out: Output,
): Promise<number> {
  const query = (since: string | undefined) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries({
      node: values.node,
      vip: values.vip,
      since,
      until: values.until,
      limit: values.limit,
    }))
      if (v !== undefined) p.set(k, v);
    return `/api/v1/events?${p.toString()}`;
  };
  const show = (e: TimelineEntry) => out.write(`${values.json ? JSON.stringify(e) : renderEvent(e)}\n`);
  let since = values.since;
  const seen = new Set<number>();
  for (;;) {
    const r = await api.get<{ events: TimelineEntry[]; truncated: boolean }>(query(since));
    for (const e of r.body.events) {
      if (seen.has(e.seq)) continue;
      seen.add(e.seq);
      show(e);
      since = String(Date.parse(e.time));
    }
    if (!values.follow) return 0;
    await sleep(1000);
  }
}
