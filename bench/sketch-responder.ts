/**
 * The project brief's reference point: a bare hand-written responder on
 * node:net that answers every request with one fixed answer, parsing
 * nothing but where a request ends. No routing, no store, no validation.
 * It shows how fast a load generator can go on this machine; the project's
 * server is measured against it in the same run.
 *
 * Settings: HTTP_PORT, and SKETCH_BODY (the JSON body every answer
 * carries, so it matches the size of a real route's answer).
 */
import { createServer, type AddressInfo } from 'node:net';

const body = process.env.SKETCH_BODY ?? '{}';
const answer = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
const HEAD_END = '\r\n\r\n';

const server = createServer({ noDelay: true }, (socket) => {
  let pending = '';
  socket.on('error', () => {});
  socket.on('data', (chunk: Buffer) => {
    pending += chunk.toString('latin1');
    let answers = 0;
    let start = 0;
    for (let end = pending.indexOf(HEAD_END); end !== -1; end = pending.indexOf(HEAD_END, start)) {
      answers++;
      start = end + HEAD_END.length;
    }
    pending = pending.slice(start);
    if (answers > 0) socket.write(answers === 1 ? answer : Buffer.concat(Array.from({ length: answers }, () => answer)));
  });
});
server.listen(Number(process.env.HTTP_PORT ?? 0), '127.0.0.1', () => {
  const { address, port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ msg: 'consumo-inteligente started', http: `${address}:${port}`, udp: 'none', baseline: 'sketch' })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
