import type { Socket } from 'node:net';
import { Messages } from '../errors.js';

const ANSWERS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', Messages.headersTooLarge],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', Messages.requestTimeout],
};

/**
 * Node's answer to a request it cannot parse (a control character or NUL in the path, headers
 * past 16 KiB, a request that never finishes) is a bare status line. Ours says the same in the
 * API's shape: JSON `{"message"}`, nosniff, and the connection closed.
 */
export function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const [status, reason, message] = ANSWERS[err.code ?? ''] ?? [
    400,
    'Bad Request',
    Messages.badRequest,
  ];
  const body = JSON.stringify({ message });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n' +
      body,
  );
}
