// The offline config checks run the ecosystems' own validators; `npm test` installs them first
// (compose/local/bootstrap.sh), this only fails early with a clear message when one is missing.
import { existsSync } from 'node:fs';
import { collectorBinary, prometheusTools, jaegerBinary } from '../../compose/local/tools.js';

export default function setup(): void {
  const needed = {
    otelcol: collectorBinary(),
    jaeger: jaegerBinary(),
    promtool: prometheusTools.promtool(),
    amtool: prometheusTools.amtool(),
  };
  const missing = Object.entries(needed).filter(([, path]) => !existsSync(path));
  if (missing.length) {
    throw new Error(
      `config validators missing: ${missing.map(([n, p]) => `${n} (${p})`).join(', ')}; run: npx tsx compose/local/cli.ts install`,
    );
  }
  process.env.PYNOMALY_OTELCOL = needed.otelcol;
}
