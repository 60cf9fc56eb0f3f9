/**
 * `npm run contratos`: writes the API's contracts from the server itself:
 * resources/openapi.json from the routes and their zod schemas plus the
 * prose (server/http/openapi.ts), and the Postman collection from that
 * document (server/http/postman.ts). `--verificar` writes nothing and
 * fails when the committed files are not what they would be (the tests
 * run it).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { startServer } from '../server/app.js';
import { isEntryPoint, loadConfig, type CliIo } from '../server/config.js';
import { openApiDocument, OpenApiDrift } from '../server/http/openapi.js';
import { postmanCollection } from '../server/http/postman.js';
import type { Route } from '../server/http/router.js';
import { isDashboardAsset } from '../server/routes/painel.js';

const RESOURCES = fileURLToPath(new URL('../../resources/', import.meta.url));
export const PROSE_FILE = join(RESOURCES, 'openapi-prosa.json');
export const OPENAPI_FILE = join(RESOURCES, 'openapi.json');
export const POSTMAN_FILE = join(RESOURCES, 'consumo-inteligente.postman_collection.json');
const USAGE = 'usage: npm run contratos [-- --verificar]';

const text = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** The OpenAPI document and the Postman collection, as files' text, for these routes. */
export async function contracts(routes: readonly Route[]): Promise<{ openapi: string; postman: string }> {
  const prose = JSON.parse(await readFile(PROSE_FILE, 'utf8')) as Parameters<typeof openApiDocument>[1];
  const document = openApiDocument(routes, prose, isDashboardAsset);
  return { openapi: text(document), postman: text(postmanCollection(document)) };
}

/** The routes a server with default settings serves (started on a temp directory, ports chosen by the system, then stopped). */
export async function servedRoutes(): Promise<readonly Route[]> {
  const dataDir = await mkdtemp(join(tmpdir(), 'contratos-'));
  try {
    const server = await startServer(loadConfig({ DATA_DIR: dataDir, HTTP_PORT: '0', UDP_PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' }, []), pino({ level: 'silent' }));
    await server.close();
    return server.routes;
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

export async function run(argv: readonly string[], _env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(`${USAGE}\n\nWrites resources/openapi.json (routes, their zod schemas and resources/openapi-prosa.json) and the Postman collection (from that document).\n--verificar: write nothing; exit 1 when the committed files differ.\n`);
    return 0;
  }
  const check = argv.includes('--verificar');
  if (argv.some((arg) => arg !== '--verificar')) {
    io.err(`contratos: unknown option (${USAGE})\n`);
    return 1;
  }
  let generated;
  try {
    generated = await contracts(await servedRoutes());
  } catch (error) {
    if (!(error instanceof OpenApiDrift)) throw error;
    io.err(`contratos: ${error.message}\n`);
    return 1;
  }
  const files = [
    { path: OPENAPI_FILE, text: generated.openapi },
    { path: POSTMAN_FILE, text: generated.postman },
  ];
  let stale = 0;
  for (const file of files) {
    const current = await readFile(file.path, 'utf8').catch(() => '');
    if (current === file.text) continue;
    stale++;
    if (check) io.err(`contratos: ${file.path} is not what the routes and the prose give (npm run contratos writes it)\n`);
    else {
      await writeFile(file.path, file.text);
      io.out(`contratos: wrote ${file.path}\n`);
    }
  }
  if (stale === 0) io.out('contratos: up to date\n');
  return check && stale > 0 ? 1 : 0;
}

if (isEntryPoint(import.meta.url)) {
  process.exit(await run(process.argv.slice(2), process.env, { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) }));
}
