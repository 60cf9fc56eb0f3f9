import t from 'tap';
import { postgresBackend } from '../backends.js';
import { udpIngestSuite } from './udp-ingest-suite.js';

udpIngestSuite(t, await postgresBackend(t));
