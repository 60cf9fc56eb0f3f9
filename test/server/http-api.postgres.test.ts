import t from 'tap';
import { postgresBackend } from '../backends.js';
import { httpApiSuite } from './http-api-suite.js';

await httpApiSuite(t, await postgresBackend(t));
