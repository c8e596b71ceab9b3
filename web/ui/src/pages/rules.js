// Alerts and Rules pages, from /api/v1/rules. They show an explanatory empty state
// until rule files are configured.
import { apiGet } from '../api.js';
import { alertBox, escapeHtml, h, labelBadgesHtml } from '../dom.js';

function ruleRowHtml(rule) {
  const state = rule.type === 'alerting' ? rule.state : rule.health;
  const error = rule.lastError ? `<div class="text-danger">${escapeHtml(rule.lastError)}</div>` : '';
  return `<tr><td><code>${rule.type === 'alerting' ? 'alert' : 'record'}: ${escapeHtml(rule.name)}</code>` +
    `<pre class="rule-expr">expr: ${escapeHtml(rule.query)}</pre>` +
    `${rule.labels ? labelBadgesHtml(rule.labels) : ''}${error}</td>` +
    `<td><span class="state state-${escapeHtml(state)}">${escapeHtml(String(state).toUpperCase())}</span></td>` +
    `<td>${rule.type === 'alerting' ? (rule.alerts || []).length : ''}</td>` +
    `<td>${escapeHtml((rule.evaluationTime || 0).toFixed(4))}s</td></tr>`;
}

async function renderRuleGroups(root, title, type, emptyText) {
  root.append(h('h1', {}, title));
  try {
    const { data } = await apiGet('rules', type ? { type } : {});
    const groups = data.groups || [];
    if (groups.length === 0) {
      root.append(alertBox('info', emptyText));
      return;
    }
    const html = groups.map((g) =>
      `<section class="rule-group"><h3>${escapeHtml(g.file)} &gt; ${escapeHtml(g.name)}</h3>` +
      '<table class="table rules-table"><thead><tr><th>Rule</th><th>State</th><th>Active alerts</th>' +
      `<th>Evaluation time</th></tr></thead><tbody>${g.rules.map(ruleRowHtml).join('')}</tbody></table></section>`);
    const body = h('div');
    body.innerHTML = html.join('');
    root.append(body);
  } catch (err) {
    root.append(alertBox('error', `Error fetching rules: ${err.message}`));
  }
}

export function renderAlertsPage(root) {
  return renderRuleGroups(root, 'Alerts', 'alert',
    'No alerting rules are configured. Add rule_files to the configuration to define alerts.');
}

export function renderRulesPage(root) {
  return renderRuleGroups(root, 'Rules', '',
    'No rules are configured. Add rule_files to the configuration to define recording and alerting rules.');
}
