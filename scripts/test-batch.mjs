/**
 * Runs several tap test files in this one process, in order (scripts/test.mjs
 * gives it the short ones): each file's tests join tap's root test and run
 * after the previous file's.
 */
import { pathToFileURL } from 'node:url';

for (const file of process.argv.slice(2)) await import(pathToFileURL(file).href);
