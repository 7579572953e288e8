// PromQL inspection for the config tests (and the live dashboard test): parse with the
// Prometheus project's own Lezer grammar, report syntax errors, list the metric names used.
import { parser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode } from '@lezer/common';

/** Grafana template variables replaced by plain values so the expression is valid PromQL. */
export function withGrafanaVariables(expr: string, values: Partial<Record<string, string>> = {}): string {
  return expr
    .replaceAll('$__rate_interval', values.__rate_interval ?? '1m')
    .replaceAll('$environment', values.environment ?? '.*')
    .replaceAll('$detector', values.detector ?? '.*');
}

/** Positions of syntax errors (empty when the expression parses cleanly). */
export function syntaxErrors(expr: string): number[] {
  const errors: number[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(node.from);
    },
  });
  return errors;
}

function childrenOf(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling) out.push(child);
  return out;
}

/** Metric names in vector selectors (`foo{...}`, `foo[5m]`), in order of appearance, deduplicated. */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  parser.parse(expr).iterate({
    enter: (ref) => {
      if (ref.name !== 'VectorSelector') return;
      for (const child of childrenOf(ref.node)) {
        if (child.name === 'Identifier') names.add(expr.slice(child.from, child.to));
      }
    },
  });
  return [...names];
}

/** Range selectors with the function they feed, e.g. `rate(x[5m])` -> { fn: 'rate', range: '5m' }. */
export function rangeSelectors(expr: string): { fn: string; range: string }[] {
  const out: { fn: string; range: string }[] = [];
  parser.parse(expr).iterate({
    enter: (ref) => {
      if (ref.name !== 'MatrixSelector') return;
      const text = expr.slice(ref.from, ref.to);
      const range = text.slice(text.lastIndexOf('[') + 1, text.lastIndexOf(']'));
      // MatrixSelector -> FunctionCallBody -> FunctionCall, whose first child names the function.
      const call = ref.node.parent?.parent;
      const fnNode = call?.name === 'FunctionCall' ? call.firstChild : null;
      out.push({ fn: fnNode ? expr.slice(fnNode.from, fnNode.to) : '', range });
    },
  });
  return out;
}
