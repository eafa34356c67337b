// A replay of a candidate component over the chain's recorded runs: its progress (polled while
// it is queued or running) and, when done, its report: how many answers stayed the same,
// changed or failed, revenue (pricing) or refunds (booking-rules) before and after as a chart,
// and example diffs with the input each run was given.
//
// Endpoints (docs/API.md): GET /chains/{id}/replays/{replay_id}, GET /chains/{id}/runs/{run_id}
// (the input of an example; runs past the retention are gone).

import { api, h, raw, mount, badge, dateTime, money, ago } from '../lib.js';
import { barChart, chartLegend } from '../chart.js';
import { shortId, componentRef, pretty, num, hookLabel, clearError } from './components.js';

const POLL_MS = 2000;

export async function render(main, params, ctx) {
  const replayId = params[0];
  if (!ctx.chain) {
    mount(main, h`<section data-page="replay"><h1>Replay</h1><p class="notice">There is no chain yet: replays belong to a chain.</p></section>`);
    return;
  }
  const chain = ctx.chain;
  const base = `/chains/${chain.id}`;
  mount(
    main,
    h`<section data-page="replay">
        <p role="alert" class="alert" hidden></p>
        <p class="crumbs"><a href="#/components">← All components</a></p>
        <h1>Replay</h1>
        <div id="replay-status" aria-live="polite"><p class="loading">Loading…</p></div>
        <div id="replay-report"></div>
        <section id="replay-examples" aria-labelledby="examples-title" hidden>
          <h2 id="examples-title">Example differences</h2>
          <div id="examples"></div>
        </section>
      </section>`,
  );
  const root = main.querySelector('section');
  const statusEl = root.querySelector('#replay-status');
  const reportEl = root.querySelector('#replay-report');
  const examplesBox = root.querySelector('#replay-examples');
  const examplesEl = root.querySelector('#examples');
  const inputs = new Map(); // run_id → input | {missing: reason}
  let timer = null;
  let stopped = false;
  let shownExamples = '';

  function statusView(r) {
    const running = r.status === 'queued' || r.status === 'running';
    const total = r.progress ? r.progress.total : 0;
    const done = r.progress ? r.progress.done : 0;
    return h`<div class="card" data-id="${r.id}" data-status="${r.status}">
        <dl class="facts">
          <div><dt>Status</dt><dd>${badge(r.status)} ${running ? h`<span class="muted small">refreshing every ${POLL_MS / 1000} s</span>` : ''}</dd></div>
          <div><dt>Candidate</dt><dd>${componentRef(r.component_id)} <span class="muted">${hookLabel(r.hook)}</span></dd></div>
          <div><dt>Recorded runs</dt><dd>${r.from ? dateTime(r.from) : 'the first kept'} – ${r.to ? dateTime(r.to) : 'now'}</dd></div>
          <div><dt>Requested</dt><dd>${dateTime(r.created_at)}</dd></div>
          <div><dt>Started</dt><dd>${r.started_at ? dateTime(r.started_at) : '—'}</dd></div>
          <div><dt>Finished</dt><dd>${r.finished_at ? h`${dateTime(r.finished_at)} <span class="muted small">(${ago(r.finished_at)})</span>` : '—'}</dd></div>
        </dl>
        ${running || (total && done < total)
          ? h`<label for="replay-progress">Progress: ${num(done)} of ${total ? num(total) : '?'} runs</label>
              <progress id="replay-progress" max="${total || 1}" value="${total ? done : 0}">${total ? Math.floor((100 * done) / total) : 0} %</progress>`
          : ''}
        ${r.status === 'failed' ? h`<p class="alert">The replay failed: ${r.error || 'no reason given'}</p>` : ''}
        ${r.status === 'done' ? h`<p class="actions"><a class="button secondary" href="#/components/${r.component_id}">Open the candidate</a> <a class="button secondary" href="#/components">Bind, canary or shadow it…</a></p>` : ''}
      </div>`;
  }

  function reportView(r) {
    const failureEntries = Object.entries(r.failures || {});
    const failed = failureEntries.reduce((a, [, v]) => a + v, 0);
    const rows = [];
    if (r.hook === 'pricing' || r.revenue_before_minor || r.revenue_after_minor) rows.push(['Revenue', r.revenue_before_minor, r.revenue_after_minor]);
    if (r.hook === 'booking-rules' || r.refunds_before_minor || r.refunds_after_minor) rows.push(['Refunds', r.refunds_before_minor, r.refunds_after_minor]);
    const fmt = (v) => money(v, chain.currency);
    const series = [
      { name: 'Before (what was answered)', values: rows.map((x) => x[1]) },
      { name: `After (candidate ${shortId(r.component_id)})`, values: rows.map((x) => x[2]) },
    ];
    return h`<section class="card" aria-labelledby="counts-title">
        <h2 id="counts-title">${r.status === 'done' ? 'Report' : 'So far'}</h2>
        <dl class="stats counts">
          <div><dt>Runs replayed</dt><dd data-count="runs">${num(r.runs)}</dd></div>
          <div><dt>Same answer</dt><dd data-count="same">${num(r.same)}</dd></div>
          <div><dt>Different</dt><dd data-count="changed">${num(r.changed)}</dd></div>
          <div><dt>Failed</dt><dd data-count="failed">${num(failed)}</dd></div>
          ${r.newly_refused || r.hook === 'booking-rules' ? h`<div><dt>Newly refused</dt><dd>${num(r.newly_refused)}</dd></div>` : ''}
          ${r.newly_allowed || r.hook === 'booking-rules' ? h`<div><dt>Newly allowed</dt><dd>${num(r.newly_allowed)}</dd></div>` : ''}
          ${r.hook === 'seat-picker' ? h`<div><dt>Other seats chosen</dt><dd>${num(r.seats_changed)}</dd></div>` : ''}
        </dl>
        ${failureEntries.length ? h`<p>Failures by kind: ${failureEntries.map(([k, v]) => `${k} ${num(v)}`).join(', ')}</p>` : ''}
      </section>
      ${rows.length
        ? h`<section class="card" aria-labelledby="money-title">
            <h2 id="money-title">${rows.map((x) => x[0]).join(' and ')} before and after</h2>
            <div class="chart-wrap">${raw(barChart({ labels: rows.map((x) => x[0]), series, format: fmt, title: `${rows.map((x) => x[0]).join(' and ')} before and after the candidate` }))}</div>
            ${raw(chartLegend(series))}
            <div class="table-wrap"><table class="money">
              <thead><tr><th scope="col">Sum</th><th scope="col" class="num">Before</th><th scope="col" class="num">After</th><th scope="col" class="num">Change</th></tr></thead>
              <tbody>${rows.map(
                ([label, before, after]) => h`<tr><th scope="row">${label}</th><td class="num">${fmt(before)}</td><td class="num">${fmt(after)}</td>
                  <td class="num ${after - before < 0 ? 'down' : after - before > 0 ? 'up' : ''}">${after - before > 0 ? '+' : ''}${fmt(after - before)}${before ? ` (${(((after - before) / before) * 100).toFixed(1)} %)` : ''}</td></tr>`,
              )}</tbody>
            </table></div>
          </section>`
        : ''}`;
  }

  async function loadInputs(examples) {
    await Promise.all(
      examples
        .filter((ex) => ex.run_id && !inputs.has(ex.run_id))
        .map(async (ex) => {
          try {
            const run = await api('GET', `${base}/runs/${ex.run_id}`);
            inputs.set(ex.run_id, { input: run.input });
          } catch (err) {
            inputs.set(ex.run_id, { missing: err.status === 404 ? 'no longer in the run log' : err.message });
          }
        }),
    );
  }

  /** One line on what changed: the total (pricing), the refund, or the decision. */
  function changeSummary(ex, got) {
    const b = ex.before || {};
    const a = ex.after || {};
    const currency = (got && got.input && got.input.show && got.input.show.currency) || chain.currency;
    if ('ok' in b && 'err' in a) return h`newly refused: “${a.err}”`;
    if ('err' in b && 'ok' in a) return h`newly allowed (was refused: “${b.err}”)`;
    const bo = b.ok;
    const ao = a.ok;
    if (bo && ao && typeof bo === 'object' && typeof ao === 'object') {
      if ('total_minor' in bo && 'total_minor' in ao) return h`total ${money(bo.total_minor, currency)} → <strong>${money(ao.total_minor, currency)}</strong>`;
      if ('refund_minor' in bo && 'refund_minor' in ao) return h`refund ${money(bo.refund_minor, currency)} → <strong>${money(ao.refund_minor, currency)}</strong>`;
    }
    if (!('ok' in a) && !('err' in a)) return h`the candidate failed`;
    return h`a different answer`;
  }

  function exampleView(ex, i, heading = true) {
    const got = ex.run_id ? inputs.get(ex.run_id) : null;
    return h`${heading ? h`<h3>Example ${i + 1}: ${changeSummary(ex, got)}</h3>` : ''}
      ${ex.run_id ? h`<p class="muted small">run <code class="wrap">${ex.run_id}</code></p>` : ''}
      <div class="diff three">
        <div><h4>Input</h4><pre>${got ? (got.input !== undefined ? pretty(got.input) : `(${got.missing})`) : '…'}</pre></div>
        <div><h4>Old output</h4><pre>${pretty(ex.before)}</pre></div>
        <div><h4>New output</h4><pre>${pretty(ex.after)}</pre></div>
      </div>`;
  }

  function examplesView(examples) {
    // The first three open, the rest one click away: twenty inputs make a very long page.
    return examples.map((ex, i) =>
      i < 3
        ? h`<article class="card example" data-id="${ex.run_id || ''}">${exampleView(ex, i)}</article>`
        : h`<details class="card example" data-id="${ex.run_id || ''}"><summary>Example ${i + 1}: ${changeSummary(ex, ex.run_id ? inputs.get(ex.run_id) : null)}</summary>${exampleView(ex, i, false)}</details>`,
    );
  }

  async function tick() {
    timer = null;
    let r;
    try {
      r = await api('GET', `${base}/replays/${replayId}`);
      clearError(root);
    } catch (err) {
      if (stopped) return;
      if (err.status === 404) {
        mount(statusEl, h`<p class="notice">${chain.name} has no replay ${replayId}.</p>`);
        return;
      }
      const box = root.querySelector('[role="alert"]');
      box.textContent = `Could not read the replay: ${err.message}${err.code ? ` (${err.code})` : ''}. Retrying…`;
      box.hidden = false;
      timer = setTimeout(tick, POLL_MS * 2);
      return;
    }
    if (stopped) return;
    const heading = root.querySelector('h1');
    heading.textContent = `Replay of ${shortId(r.component_id)} (${r.hook})`;
    mount(statusEl, statusView(r));
    mount(reportEl, r.status === 'queued' ? '' : reportView(r));
    const examples = Array.isArray(r.examples) ? r.examples : [];
    const key = JSON.stringify(examples.map((e) => e.run_id));
    if (examples.length && key !== shownExamples) {
      await loadInputs(examples);
      if (stopped) return;
      shownExamples = key;
      examplesBox.hidden = false;
      mount(examplesEl, examplesView(examples));
    } else if (!examples.length && r.status === 'done') {
      examplesBox.hidden = false;
      mount(examplesEl, h`<p class="muted">No run was answered differently.</p>`);
    }
    if (r.status === 'queued' || r.status === 'running') timer = setTimeout(tick, POLL_MS);
  }

  await tick();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
