// Unit tests (node:test) for the UI's pure logic: durations and times of the Graph
// page, and the Prometheus-compatible g<N>.* URL scheme.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  defaultPanel, panelsFromSearch, searchFromPanels, TAB_GRAPH, TAB_TABLE,
} from '../../web/ui/src/graph_url.js';
import {
  defaultStepSeconds, formatDuration, formatTimeInput, nextRange, parseDuration, parseTimeInput,
} from '../../web/ui/src/time_input.js';

test('parseDuration_AcceptsPrometheusUnitsInOrder', () => {
  assert.equal(parseDuration('1h30m'), 5400e3);
  assert.equal(parseDuration('2d'), 2 * 86400e3);
  assert.equal(parseDuration('1w'), 7 * 86400e3);
  assert.equal(parseDuration('500ms'), 500);
});

test('parseDuration_RejectsMalformedAndZero', () => {
  for (const bad of ['', '1x', 'h', '30m1h', '0s', '-1h']) assert.equal(parseDuration(bad), null, bad);
});

test('formatDuration_UsesLargestUnitsFirst', () => {
  assert.equal(formatDuration(5400e3), '1h30m');
  assert.equal(formatDuration(86400e3 + 1000), '1d1s');
  assert.equal(formatDuration(parseDuration('2w3d')), '2w3d');
});

test('nextRange_StepsThroughPrometheusRanges', () => {
  assert.equal(formatDuration(nextRange(3600e3, 1)), '2h');
  assert.equal(formatDuration(nextRange(3600e3, -1)), '30m');
  assert.equal(formatDuration(nextRange(2500e3, 1)), '1h');  // off-grid ranges snap to the next step
  assert.equal(nextRange(1000, -1), 1000);  // nothing below 1s
});

test('timeInput_RoundTripsUtc', () => {
  const ms = Date.UTC(2026, 0, 2, 15, 4, 5);
  assert.equal(formatTimeInput(ms), '2026-01-02 15:04:05');
  assert.equal(parseTimeInput('2026-01-02 15:04:05'), ms);
  assert.equal(parseTimeInput(''), null);
  assert.equal(parseTimeInput('yesterday'), null);
});

test('defaultStepSeconds_AimsAt250PointsAtLeastOneSecond', () => {
  assert.equal(defaultStepSeconds(3600e3), 14);
  assert.equal(defaultStepSeconds(60e3), 1);
});

test('panelsFromSearch_ReadsPrometheusGraphLinks', () => {
  const panels = panelsFromSearch('?g0.expr=rate(x%5B5m%5D)&g0.tab=0&g0.range_input=6h&g0.stacked=1' +
    '&g0.step_input=30&g1.expr=up&g1.tab=1&g1.moment_input=2026-01-02%2015%3A04%3A05&other=1');
  assert.equal(panels.length, 2);
  assert.deepEqual(panels[0], { ...defaultPanel(), expr: 'rate(x[5m])', tab: TAB_GRAPH, range_input: '6h', stacked: true, step_input: '30' });
  assert.deepEqual(panels[1], { ...defaultPanel(), expr: 'up', tab: TAB_TABLE, moment_input: '2026-01-02 15:04:05' });
});

test('panelsFromSearch_GivesOneEmptyPanelWithoutParameters', () => {
  assert.deepEqual(panelsFromSearch(''), [defaultPanel()]);
});

test('searchFromPanels_RoundTrips', () => {
  const panels = [
    { ...defaultPanel(), expr: 'sum by (job) (up)', tab: TAB_GRAPH, range_input: '1d', end_input: '2026-01-02 00:00:00' },
    { ...defaultPanel(), expr: 'inventory_items_total', tab: TAB_TABLE },
  ];
  assert.deepEqual(panelsFromSearch(`?${searchFromPanels(panels)}`), panels);
});
