import { type DashboardBody, ENV, q, table, timeseries } from '../lib.js';
import { RI } from '../selectors.js';

export default function selfHealth(): DashboardBody {
  return {
    title: 'Pynomaly / Monitoring self-health',
    description: 'Prometheus, Alertmanager, scrape targets and the exporters of the real parts (Postgres, the host).',
    panels: [
      table({
        title: 'Targets',
        description: 'Every scrape target and whether it answers.',
        unit: 'bool',
        queries: [q(`up{${ENV}}`, '{{job}} {{instance}}')],
      }),
      timeseries({
        title: 'Scrape duration',
        description: 'Time each scrape takes.',
        unit: 's',
        queries: [q(`scrape_duration_seconds{${ENV}}`, '{{job}} {{instance}}')],
      }),
      timeseries({
        title: 'Firing alerts',
        description: 'Alerts firing, by name and severity.',
        unit: 'none',
        queries: [q('sum by (alertname, severity) (ALERTS{alertstate="firing"})', '{{alertname}} {{severity}}')],
      }),
      timeseries({
        title: 'Head series',
        description: 'Series in the Prometheus head block.',
        unit: 'none',
        queries: [q(`prometheus_tsdb_head_series{${ENV}}`, '{{instance}}')],
      }),
      timeseries({
        title: 'Rule evaluation failures',
        description: 'Failed rule evaluations per second.',
        unit: 'suffix: failures/s',
        queries: [
          q(`sum by (rule_group) (rate(prometheus_rule_evaluation_failures_total{${ENV}}[${RI}]))`, '{{rule_group}}'),
        ],
      }),
      timeseries({
        title: 'Rule group duration',
        description: 'Last evaluation time per rule group (must stay below 15 s).',
        unit: 's',
        queries: [q(`prometheus_rule_group_last_duration_seconds{${ENV}}`, '{{rule_group}}')],
      }),
      timeseries({
        title: 'Config reloads OK',
        description: '1 when the last configuration reload succeeded.',
        unit: 'bool',
        queries: [
          q(`prometheus_config_last_reload_successful{${ENV}}`, 'prometheus'),
          q(`alertmanager_config_last_reload_successful{${ENV}}`, 'alertmanager'),
        ],
      }),
      timeseries({
        title: 'Alerts sent to Alertmanager',
        description: 'Alerts Prometheus sent and failed to send per second.',
        unit: 'suffix: alerts/s',
        queries: [
          q(`sum(rate(prometheus_notifications_sent_total{${ENV}}[${RI}]))`, 'sent'),
          q(`sum(rate(prometheus_notifications_errors_total{${ENV}}[${RI}]))`, 'errors'),
        ],
      }),
      timeseries({
        title: 'Alertmanager notifications',
        description: 'Notifications per second by integration, and failures.',
        unit: 'suffix: notifications/s',
        queries: [
          q(`sum by (integration) (rate(alertmanager_notifications_total{${ENV}}[${RI}]))`, '{{integration}}'),
          q(
            `sum by (integration) (rate(alertmanager_notifications_failed_total{${ENV}}[${RI}]))`,
            'failed {{integration}}',
          ),
        ],
      }),
      timeseries({
        title: 'Alertmanager alerts',
        description: 'Alerts held by Alertmanager, by state.',
        unit: 'none',
        queries: [q(`sum by (state) (alertmanager_alerts{${ENV}})`, '{{state}}')],
      }),
      timeseries({
        title: 'Postgres',
        description: 'Postgres reachable (pg_up) and connections in use.',
        unit: 'none',
        queries: [q(`pg_up{${ENV}}`, 'up'), q(`sum(pg_stat_database_numbackends{${ENV}})`, 'connections')],
      }),
      timeseries({
        title: 'Host CPU busy',
        description: 'Share of CPU time not idle on the host.',
        unit: 'percentunit',
        queries: [q(`1 - avg(rate(node_cpu_seconds_total{${ENV},mode="idle"}[${RI}]))`, 'busy')],
      }),
      timeseries({
        title: 'Host memory available',
        description: 'Share of memory available on the host.',
        unit: 'percentunit',
        queries: [q(`node_memory_MemAvailable_bytes{${ENV}} / node_memory_MemTotal_bytes{${ENV}}`, 'available')],
      }),
      timeseries({
        title: 'Host disk free',
        description: 'Free space per filesystem.',
        unit: 'percentunit',
        queries: [
          q(
            `node_filesystem_avail_bytes{${ENV},fstype!~"tmpfs|overlay"} / node_filesystem_size_bytes{${ENV},fstype!~"tmpfs|overlay"}`,
            '{{mountpoint}}',
          ),
        ],
      }),
    ],
  };
}
