/**
 * buildApp(deps): the fastify application without I/O of its own, so tests drive it with
 * `inject` and a fake store. main.ts wires the real Postgres store, Kafka and telemetry.
 */
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import {
  DEFAULT_API_LIMITS,
  DEFAULT_TRAINING_BUDGET,
  type ApiLimits,
  type Logger,
  type ScrapeMetrics,
  type TrainingBudget,
} from '@pynomaly/shared';
import { installErrorHandler, schemaErrorFormatter } from './errors.js';
import { installJsonBodyParser } from './json-body.js';
import { registerAuth, type AuthOptions, type RouteScope } from './plugins/auth.js';
import { inRequestContext, installServerSpans } from './plugins/server-spans.js';
import { alertRoutes } from './routes/alerts.js';
import { datasetRoutes } from './routes/datasets.js';
import { detectorRoutes } from './routes/detectors.js';
import { jobRoutes } from './routes/jobs.js';
import { opsRoutes } from './routes/ops.js';
import { operatorRoutes } from './routes/operator.js';
import { slackSinkRoutes } from './routes/slack-sink.js';
import type { OperatorStore } from './operator-store.js';
import type { ApiStore } from './store.js';
import { limitConcurrentUploads } from './upload-slots.js';

/** Every route as registered, with the scope it declared (undefined: none, so it is closed). */
export interface RouteEntry {
  method: string;
  url: string;
  scope: RouteScope | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    routeTable: readonly RouteEntry[];
  }
}

/** The API's limits: ApiLimits from the config, defaults from DEFAULT_API_LIMITS. */
export type Limits = ApiLimits;

/** Routes that take a whole dataset in one request. */
const UPLOAD_ROUTES = new Set(['/api/v1/datasets', '/api/v1/datasets/upload']);

export interface AppDeps {
  store: ApiStore;
  /** Jobs listing and retry, dead letters (admin routes). */
  operator: OperatorStore;
  auth: AuthOptions;
  scrape: ScrapeMetrics;
  /** Readiness checks by name; each rejects when its dependency is unavailable. */
  readiness: Record<string, () => Promise<void>>;
  version: string;
  logger?: Logger | false;
  limits?: Partial<Limits>;
  /** Training cost budget (TRAINING_MAX_WORK, TRAINING_MAX_MODEL_NODES); defaults to the documented one. */
  trainingBudget?: TrainingBudget;
  rateLimit?: { max: number; timeWindowMs: number } | false;
  /** fastify's trustProxy, for the client address behind a reverse proxy (API_TRUST_PROXY). */
  trustProxy?: boolean | number | string | undefined;
}

/** A hop count becomes fastify's function form (its types take true, addresses or a function). */
function trustProxyOption(v: AppDeps['trustProxy']): {
  trustProxy?: boolean | string | ((a: string, hop: number) => boolean);
} {
  if (v === undefined) return {};
  if (typeof v === 'number') return { trustProxy: (_address: string, hop: number) => hop < v };
  return { trustProxy: v };
}

/** Probes and scrapes: neither traced nor logged; they would drown the record of real work. */
const UNOBSERVED_PATHS = /^\/(health|metrics|api\/metrics)/;

/**
 * One line per request, when it completes, with what fastify's "incoming request" line carried
 * (method, url, host, remote address) and the status and response time. Fastify's default writes
 * a second line when the request arrives; with every line also exported over OTLP, that line
 * doubled the logging cost of a request and said nothing the server span does not.
 */
class AccessLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    const fields = { req: request, res: reply, responseTime: reply.elapsedTime };
    // Written when the response finishes, outside the request's context: the line still carries
    // the server span's trace and span ids.
    inRequestContext(request, () => {
      if (error) reply.log.error({ ...fields, err: error }, 'request errored');
      else reply.log.info(fields, 'request completed');
    });
  }
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const limits: ApiLimits = { ...DEFAULT_API_LIMITS, ...deps.limits };
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger as FastifyBaseLogger } : { logger: false }),
    bodyLimit: limits.bodyBytes,
    requestIdHeader: 'x-request-id',
    logController: new AccessLog({ disableRequestLogging: (req) => UNOBSERVED_PATHS.test(req.url) }),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    schemaErrorFormatter,
    ...trustProxyOption(deps.trustProxy),
  }).withTypeProvider<ZodTypeProvider>();

  // First hooks of every request: everything after them runs inside the request's server span.
  installServerSpans(app, { untraced: UNOBSERVED_PATHS });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // text/plain would otherwise reach JSON routes as a string; only JSON and multipart are accepted.
  app.removeContentTypeParser('text/plain');
  installJsonBodyParser(app, {
    maxDepth: limits.jsonMaxDepth,
    // The widest legitimate container: a dataset's rows or a row's features.
    maxItems: Math.max(limits.datasetMaxRows, limits.detectMaxRows, limits.maxFeatures),
  });
  installErrorHandler(app, { maxIssues: limits.maxIssues, messageBytes: limits.errorMessageBytes });
  registerAuth(app, deps.auth);

  if (deps.rateLimit !== false) {
    const rl = deps.rateLimit ?? { max: 6000, timeWindowMs: 60_000 };
    await app.register(rateLimit, {
      global: true,
      max: rl.max,
      timeWindow: rl.timeWindowMs,
      // Runs after authentication (route-level hook), so the quota belongs to the key's name:
      // header spellings of one key, and both keys of a rotation, share one quota.
      keyGenerator: (req) => (req.principal ? `key:${req.principal.name}` : `address:${req.ip}`),
    });
  }
  limitConcurrentUploads(app, UPLOAD_ROUTES, limits.maxConcurrentUploads);
  await app.register(multipart, {
    throwFileSizeLimit: true,
    limits: { fileSize: limits.uploadBytes, files: 1, fields: 10, fieldSize: 1024, parts: 12 },
  });

  // Every route with its declared scope, for the route × scope test. The docs are public: they
  // describe the API, they do not expose data.
  const routes: RouteEntry[] = [];
  app.decorate('routeTable', routes);
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) {
      route.schema = { ...(route.schema ?? {}), 'x-scope': 'public' };
      route.config = { ...(route.config ?? {}), rateLimit: false } as typeof route.config;
    }
    for (const method of [route.method].flat())
      routes.push({ method, url: route.url, scope: route.schema?.['x-scope'] });
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Pynomaly API',
        version: deps.version,
        description:
          'Anomaly detection with drift monitoring. Send X-API-Key (or Authorization: Bearer) on /api/v1 routes. ' +
          'Each operation names the scope its key needs in `x-scope` (read < write < admin; alerts:write for the ' +
          'Alertmanager webhook; metrics:read or the scrape token for /api/metrics*; public needs no key).',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ apiKey: [] }, { bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(opsRoutes, { checks: deps.readiness, scrape: deps.scrape });
  await app.register(datasetRoutes, { store: deps.store, limits });
  await app.register(detectorRoutes, {
    store: deps.store,
    limits,
    trainingBudget: deps.trainingBudget ?? DEFAULT_TRAINING_BUDGET,
  });
  await app.register(jobRoutes, { store: deps.store });
  await app.register(alertRoutes, { store: deps.store });
  await app.register(operatorRoutes, { operator: deps.operator });
  await app.register(slackSinkRoutes, { operator: deps.operator });
  return app;
}
