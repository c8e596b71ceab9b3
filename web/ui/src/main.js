// Entry point: picks the page from the last path segment (/graph, /targets, ...), draws
// the navigation bar and mounts the page. Links are relative, so the UI works under
// any route prefix.
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { h } from './dom.js';
import { renderGraphPage } from './pages/graph.js';
import { renderAlertsPage, renderRulesPage } from './pages/rules.js';
import { renderServiceDiscoveryPage } from './pages/service_discovery.js';
import {
  renderConfigPage, renderFlagsPage, renderRemoteWritePage, renderStatusPage, renderTsdbStatusPage,
} from './pages/status.js';
import { renderTargetsPage } from './pages/targets.js';

const PAGES = {
  graph: { title: 'Graph', render: renderGraphPage },
  alerts: { title: 'Alerts', render: renderAlertsPage },
  rules: { title: 'Rules', render: renderRulesPage },
  targets: { title: 'Targets', render: renderTargetsPage },
  'service-discovery': { title: 'Service Discovery', render: renderServiceDiscoveryPage },
  status: { title: 'Runtime & Build Information', render: renderStatusPage },
  flags: { title: 'Command-Line Flags', render: renderFlagsPage },
  config: { title: 'Configuration', render: renderConfigPage },
  'tsdb-status': { title: 'TSDB Status', render: renderTsdbStatusPage },
  'remote-write': { title: 'Remote Write', render: renderRemoteWritePage },
};

const NAV = [
  ['alerts', 'Alerts'], ['graph', 'Graph'], ['rules', 'Rules'], ['targets', 'Targets'],
  ['service-discovery', 'Service Discovery'], ['status', 'Status'], ['tsdb-status', 'TSDB Status'],
  ['remote-write', 'Remote Write'], ['flags', 'Flags'], ['config', 'Configuration'],
];

function currentPageName() {
  const segment = location.pathname.replace(/\/+$/, '').split('/').pop();
  return segment in PAGES ? segment : 'graph';
}

function navBar(active) {
  return h('nav', { class: 'navbar' },
    h('a', { class: 'brand', href: 'graph' }, 'Vigil'),
    NAV.map(([page, text]) => h('a', { class: page === active ? 'nav-link active' : 'nav-link', href: page }, text)));
}

function start() {
  const name = currentPageName();
  const page = PAGES[name];
  document.title = `Vigil \u2013 ${page.title}`;
  const main = h('main', { class: 'container', id: `page-${name}` });
  document.body.replaceChildren(navBar(name), main);
  Promise.resolve(page.render(main)).finally(() => main.setAttribute('data-loaded', 'true'));
}

start();
