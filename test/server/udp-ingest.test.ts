import t from 'tap';
import { fileBackend } from '../backends.js';
import { udpIngestSuite } from './udp-ingest-suite.js';

udpIngestSuite(t, fileBackend);
