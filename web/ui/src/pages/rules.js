// Alerts and Rules pages, from /api/v1/rules. They show an explanatory empty state
// until rule files are configured.
import { apiFetch } from '../api.js';
import { alertBox, escapeHtml, formatAgo, h, labelBadgesHtml } from '../dom.js';

const ALERT_STATES = ['firing', 'pending', 'inactive'];

function stateBadge(state) {
  return `<span class="state state-${escapeHtml(state)}">${escapeHtml(String(state).toUpperCase())}</span>`;
}

function ruleRowHtml(rule) {
  const state = rule.type === 'alerting' ? rule.state : rule.health;
  const error = rule.lastError ? `<div class="text-danger">${escapeHtml(rule.lastError)}</div>` : '';
  return `<tr><td><code>${rule.type === 'alerting' ? 'alert' : 'record'}: ${escapeHtml(rule.name)}</code>` +
    `<pre class="rule-expr">expr: ${escapeHtml(rule.query)}</pre>` +
    `${rule.labels ? labelBadgesHtml(rule.labels) : ''}${error}</td>` +
    `<td>${stateBadge(state)}</td>` +
    `<td>${escapeHtml(formatAgo(rule.lastEvaluation))}</td>` +
    `<td>${escapeHtml((rule.evaluationTime || 0).toFixed(4))}s</td></tr>`;
}

// One alerting rule: its definition and the table of its active alerts.
function alertingRuleHtml(rule) {
  const alerts = rule.alerts || [];
  const rows = alerts.map((a) => `<tr><td class="labels">${labelBadgesHtml(a.labels)}</td>` +
    `<td>${stateBadge(a.state)}</td><td>${escapeHtml(a.activeAt ? formatAgo(a.activeAt) : '')}</td>` +
    `<td>${escapeHtml(a.value)}</td></tr>`).join('');
  const definition = [`alert: ${rule.name}`, `expr: ${rule.query}`];
  if (rule.duration) definition.push(`for: ${rule.duration}s`);
  for (const [kind, map] of [['labels', rule.labels], ['annotations', rule.annotations]]) {
    const entries = Object.entries(map || {});
    if (entries.length) definition.push(`${kind}:`, ...entries.map(([k, v]) => `  ${k}: ${v}`));
  }
  return `<details class="alert-rule state-border-${escapeHtml(rule.state)}"${rule.state === 'firing' ? ' open' : ''}>` +
    `<summary>${stateBadge(rule.state)} <strong>${escapeHtml(rule.name)}</strong> (${alerts.length} active)</summary>` +
    `<pre class="rule-expr">${escapeHtml(definition.join('\n'))}</pre>` +
    (alerts.length ? '<table class="table alerts-table"><thead><tr><th>Labels</th><th>State</th><th>Active Since</th>' +
      `<th>Value</th></tr></thead><tbody>${rows}</tbody></table>` : '') +
    '</details>';
}

async function fetchGroups(root, type, emptyText) {
  try {
    const { data } = await apiFetch('rules', type ? { type } : {});
    const groups = data.groups || [];
    if (groups.length === 0) root.append(alertBox('info', emptyText));
    return groups;
  } catch (err) {
    root.append(alertBox('error', `Error fetching rules: ${err.message}`));
    return [];
  }
}

function appendHtml(root, html) {
  const body = h('div');
  body.innerHTML = html;
  root.append(body);
}

export async function renderAlertsPage(root) {
  root.append(h('h1', {}, 'Alerts'));
  const groups = await fetchGroups(root, 'alert',
    'No alerting rules are configured. Add rule_files to the configuration to define alerts.');
  if (groups.length === 0) return;
  const rules = groups.flatMap((g) => g.rules);
  const shown = new Set(ALERT_STATES);
  const list = h('div');
  const draw = () => {
    let html = '';
    for (const g of groups) {
      const visible = g.rules.filter((r) => shown.has(r.state));
      if (visible.length === 0) continue;
      html += `<section class="rule-group"><h3>${escapeHtml(g.file)} &gt; ${escapeHtml(g.name)}</h3>` +
        `${visible.map(alertingRuleHtml).join('')}</section>`;
    }
    list.innerHTML = html || '<div class="alert alert-info">No alerts in the selected states.</div>';
  };
  const boxes = ALERT_STATES.map((state) => {
    const count = rules.filter((r) => r.state === state).length;
    return h('label', { class: 'check' }, h('input', {
      type: 'checkbox', checked: true, name: `state-${state}`,
      onchange: (e) => { if (e.target.checked) shown.add(state); else shown.delete(state); draw(); },
    }), ` ${state[0].toUpperCase()}${state.slice(1)} (${count})`);
  });
  root.append(h('div', { class: 'controls' }, boxes), list);
  draw();
}

export async function renderRulesPage(root) {
  root.append(h('h1', {}, 'Rules'));
  const groups = await fetchGroups(root, '',
    'No rules are configured. Add rule_files to the configuration to define recording and alerting rules.');
  appendHtml(root, groups.map((g) =>
    `<section class="rule-group"><h3>${escapeHtml(g.file)} &gt; ${escapeHtml(g.name)}</h3>` +
    '<table class="table rules-table"><thead><tr><th>Rule</th><th>State</th><th>Last Evaluation</th>' +
    `<th>Evaluation Time</th></tr></thead><tbody>${g.rules.map(ruleRowHtml).join('')}</tbody></table></section>`).join(''));
}
