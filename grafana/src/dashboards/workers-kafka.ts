import { type DashboardBody, ENV, LOGS_ENV, logs, q, stat, timeseries } from '../lib.js';
import { RI, WORKERS } from '../selectors.js';

export default function workers(): DashboardBody {
  return {
    title: 'Pynomaly / Workers and Kafka',
    description:
      'Training and drift workers: liveness, message handling, DLQ; Kafka consumer lag and topic throughput.',
    panels: [
      timeseries({
        title: 'Workers up',
        description: 'Scrape health of each worker (1 up, 0 down).',
        unit: 'bool',
        queries: [q(`up{${WORKERS}}`, '{{job}} {{instance}}')],
      }),
      timeseries({
        title: 'Consumer lag',
        description: 'Messages behind, per consumer group and topic (kafkametrics).',
        unit: 'suffix: messages',
        queries: [q(`environment_group_topic:kafka_consumer_group_lag:sum{${ENV}}`, '{{group}} {{topic}}')],
      }),
      timeseries({
        title: 'Messages consumed',
        description: 'Messages handled per second, by group, topic and outcome.',
        unit: 'suffix: msg/s',
        queries: [
          q(
            `sum by (consumer_group, topic, outcome) (rate(pynomaly_messages_consumed_total{${ENV}}[${RI}]))`,
            '{{consumer_group}} {{topic}} {{outcome}}',
          ),
        ],
      }),
      timeseries({
        title: 'Processing duration p95',
        description: 'p95 time from receiving a message to committing it.',
        unit: 's',
        queries: [
          q(
            `histogram_quantile(0.95, sum by (le, consumer_group, topic) (rate(pynomaly_message_processing_duration_seconds_bucket{${ENV}}[${RI}])))`,
            '{{consumer_group}} {{topic}}',
          ),
        ],
      }),
      timeseries({
        title: 'Messages produced',
        description: 'Messages produced per second, by topic and outcome.',
        unit: 'suffix: msg/s',
        queries: [
          q(`sum by (topic, outcome) (rate(pynomaly_messages_produced_total{${ENV}}[${RI}]))`, '{{topic}} {{outcome}}'),
        ],
      }),
      timeseries({
        title: 'Dead-lettered',
        description: 'Messages sent to the DLQ per second, by origin topic and reason.',
        unit: 'suffix: msg/s',
        queries: [
          q(
            `sum by (topic, reason) (rate(pynomaly_messages_dead_lettered_total{${ENV}}[${RI}]))`,
            '{{topic}} {{reason}}',
          ),
        ],
      }),
      timeseries({
        title: 'Dead letters replayed and discarded',
        description:
          'Dead letters an operator replayed or discarded (POST /api/v1/dead-letters/:id/replay|discard, npm run ops), per second, by action and origin topic.',
        unit: 'suffix: msg/s',
        queries: [
          q(
            `sum by (action, topic) (rate(pynomaly_dead_letters_actions_total{${ENV}}[${RI}]))`,
            '{{action}} {{topic}}',
          ),
        ],
      }),
      timeseries({
        title: 'Topic write rate',
        description: "Growth of each topic's end offsets (messages/s), from kafkametrics.",
        unit: 'suffix: msg/s',
        queries: [q(`sum by (topic) (rate(kafka_partition_current_offset_ratio{${ENV}}[${RI}]))`, '{{topic}}')],
      }),
      timeseries({
        title: 'Consumer group members',
        description: 'Members of each consumer group.',
        unit: 'none',
        queries: [q(`kafka_consumer_group_members{${ENV}}`, '{{group}}')],
      }),
      stat({
        title: 'Kafka brokers',
        description: 'Brokers in the cluster.',
        unit: 'none',
        queries: [q(`max(kafka_brokers{${ENV}})`, 'brokers')],
      }),
      stat({
        title: 'Partitions',
        description: 'Partitions per topic.',
        unit: 'none',
        width: 18,
        queries: [q(`max by (topic) (kafka_topic_partitions{${ENV}})`, '{{topic}}')],
      }),
      timeseries({
        title: 'Worker memory',
        description: 'Resident memory of each worker.',
        unit: 'bytes',
        queries: [q(`process_resident_memory_bytes{${WORKERS}}`, '{{job}} {{instance}}')],
      }),
      timeseries({
        title: 'Worker CPU',
        description: 'CPU seconds per second used by each worker.',
        unit: 'percentunit',
        queries: [q(`rate(process_cpu_seconds_total{${WORKERS}}[${RI}])`, '{{job}} {{instance}}')],
      }),
      logs({
        title: 'Failed jobs and worker errors (log store)',
        description:
          'Warning, error and fatal log lines of the training and drift workers (failed attempts, dead-lettered jobs, consumer restarts), newest first.',
        query: `service.name:in("pynomaly-training-worker","pynomaly-drift-worker") ${LOGS_ENV} severity_text:in("warn","error","fatal")`,
      }),
    ],
  };
}
