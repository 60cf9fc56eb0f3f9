import t from 'tap';
import { fileBackend } from '../backends.js';
import { httpApiSuite } from './http-api-suite.js';

await httpApiSuite(t, fileBackend);
