/**
 * The raw ceiling of UDP ingest on this machine: a bare node:dgram receiver
 * that only counts datagrams. Prints its port, then on SIGTERM the count.
 * argv: receiveBufferBytes
 */
import { createSocket } from 'node:dgram';

const socket = createSocket({ type: 'udp4', recvBufferSize: Number(process.argv[2] ?? 8 * 1024 * 1024) });
let datagrams = 0;
socket.on('message', () => {
  datagrams++;
});
socket.bind(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: socket.address().port, receiveBufferBytes: socket.getRecvBufferSize() })}\n`);
});
process.on('SIGTERM', () => {
  process.stdout.write(`${JSON.stringify({ datagrams })}\n`);
  process.exit(0);
});
