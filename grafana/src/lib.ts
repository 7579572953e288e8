// Building blocks shared by every dashboard: one datasource (fixed uid, provisioned by
// grafana/provisioning), the environment/detector variables, and panel helpers that force a unit
// on every panel and a Prometheus query with a legend.
import {
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  QueryVariableBuilder,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import { PanelBuilder as LogsPanel } from '@grafana/grafana-foundation-sdk/logs';
import {
  LegendDisplayMode,
  LegendPlacement,
  LogsSortOrder,
  VizLegendOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';

export const DATASOURCE = { type: 'prometheus', uid: 'pynomaly-prometheus' } as const;
/** The log store (VictoriaLogs plugin), provisioned in grafana/provisioning/datasources/traces-and-logs.yml. */
export const LOGS_DATASOURCE = { type: 'victoriametrics-logs-datasource', uid: 'pynomaly-logs' } as const;
/** LogsQL filter on the environment variable (`.*` for All), for every logs panel. */
export const LOGS_ENV = 'deployment.environment:~"$environment"';

/** Label matcher every query carries, so one Grafana can show any environment. */
export const ENV = 'environment=~"$environment"';
/** ENV plus the detector variable, for per-detector metrics. */
export const ENV_DET = 'environment=~"$environment",detector_id=~"$detector"';

export interface Query {
  readonly expr: string;
  readonly legend: string;
}

export function q(expr: string, legend: string): Query {
  return { expr, legend };
}

function target(query: Query, index: number, instant: boolean): DataqueryBuilder {
  const t = new DataqueryBuilder()
    .datasource(DATASOURCE)
    .expr(query.expr)
    .legendFormat(query.legend)
    .refId(String.fromCharCode(65 + index));
  return instant ? t.instant() : t.range();
}

export interface PanelSpec {
  readonly title: string;
  readonly description: string;
  /** Grafana unit id (s, bytes, reqps, percentunit, none, suffix:…); required on every panel. */
  readonly unit: string;
  readonly queries: readonly Query[];
  readonly width?: number;
  readonly height?: number;
  readonly min?: number;
}

export function timeseries(spec: PanelSpec): TimeseriesPanel {
  const p = new TimeseriesPanel()
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .unit(spec.unit)
    .span(spec.width ?? 12)
    .height(spec.height ?? 8)
    .fillOpacity(10)
    .lineWidth(1)
    .legend(
      new VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(LegendDisplayMode.List)
        .placement(LegendPlacement.Bottom),
    );
  if (spec.min !== undefined) p.min(spec.min);
  spec.queries.forEach((query, i) => p.withTarget(target(query, i, false)));
  return p;
}

export function stat(spec: PanelSpec): StatPanel {
  const p = new StatPanel()
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .unit(spec.unit)
    .span(spec.width ?? 6)
    .height(spec.height ?? 5);
  spec.queries.forEach((query, i) => p.withTarget(target(query, i, true)));
  return p;
}

export function table(spec: PanelSpec): TablePanel {
  const p = new TablePanel()
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .unit(spec.unit)
    .span(spec.width ?? 24)
    .height(spec.height ?? 8);
  spec.queries.forEach((query, i) => p.withTarget(target(query, i, true).format(PromQueryFormat.Table)));
  return p;
}

export interface LogsPanelSpec {
  readonly title: string;
  readonly description: string;
  /** LogsQL; every query filters on LOGS_ENV. */
  readonly query: string;
  readonly width?: number;
  readonly height?: number;
}

/** The log store's query as the plugin stores it: LogsQL in `expr`, raw records (`instant`). */
function logsTarget(query: string): Builder<Dataquery> {
  return {
    build: () =>
      ({ refId: 'A', datasource: LOGS_DATASOURCE, expr: query, queryType: 'instant' }) as unknown as Dataquery,
  };
}

/** Log lines from the log store; a line's trace_id opens its trace (the datasource's derived field). */
export function logs(spec: LogsPanelSpec): LogsPanel {
  return new LogsPanel()
    .title(spec.title)
    .description(spec.description)
    .datasource(LOGS_DATASOURCE)
    .span(spec.width ?? 24)
    .height(spec.height ?? 10)
    .showTime(true)
    .wrapLogMessage(true)
    .sortOrder(LogsSortOrder.Descending)
    .enableLogDetails(true)
    .withTarget(logsTarget(spec.query));
}

function environmentVariable(): QueryVariableBuilder {
  return new QueryVariableBuilder('environment')
    .label('Environment')
    .datasource(DATASOURCE)
    .query({ query: 'label_values(up, environment)', refId: 'environment' })
    .definition('label_values(up, environment)')
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .includeAll(true)
    .allValue('.*')
    .multi(false);
}

function detectorVariable(): QueryVariableBuilder {
  const query = 'label_values(pynomaly_model_version{environment=~"$environment"}, detector_id)';
  return new QueryVariableBuilder('detector')
    .label('Detector')
    .datasource(DATASOURCE)
    .query({ query, refId: 'detector' })
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .includeAll(true)
    .allValue('.*')
    .multi(true);
}

export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly perDetector?: boolean;
  readonly panels: readonly (TimeseriesPanel | StatPanel | TablePanel | LogsPanel)[];
}

/** What a dashboard file in grafana/src/dashboards/ returns; its uid comes from the file name. */
export type DashboardBody = Omit<DashboardSpec, 'uid'>;

/** The uid of the dashboard written to grafana/dashboards/<name>.json; runbooks link to /d/<uid>. */
export function dashboardUid(name: string): string {
  return `pynomaly-${name}`;
}

export function build(spec: DashboardSpec): Dashboard {
  const d = new DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(['pynomaly'])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .time({ from: 'now-1h', to: 'now' })
    .refresh('30s')
    .timezone('browser')
    .withVariable(environmentVariable())
    .link(
      new DashboardLinkBuilder('Pynomaly')
        .type(DashboardLinkType.Dashboards)
        .tags(['pynomaly'])
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true),
    );
  if (spec.perDetector) d.withVariable(detectorVariable());
  spec.panels.forEach((panel, i) => d.withPanel(panel.id(i + 1)));
  return d.build();
}
