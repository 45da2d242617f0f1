import type http from 'node:http';
import type { Socket } from 'node:net';

/**
 * Closes `server` the way a fleet needs: stop accepting, let every in-flight request finish
 * (a device halfway through a firmware download must get the rest, or it retries from the
 * start), close keep-alive connections as they go idle, and cut whatever is left after
 * `graceMs`.
 *
 * Node's `closeIdleConnections()` alone is not enough: it counts a connection as idle once the
 * response has called `end()`, even while most of the body still waits in the socket's buffer
 * for a slow reader, and destroying it then throws that data away. A firmware body is one
 * buffer of up to megabytes, so that is the usual case for a device on a weak link. This
 * server's closeIdleConnections() therefore does nothing while any connection still has bytes
 * waiting in its socket; the sweep every 100 ms closes the idle ones once none has.
 *
 * Connections, not requests, are tracked: nothing is added to each poll on a kept-alive connection.
 * Call it when the server is created; call the function it returns on shutdown.
 */
export function trackConnections(server: http.Server): (graceMs: number) => Promise<void> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const flushing = (): boolean => {
    for (const socket of sockets) if (socket.writableLength > 0) return true;
    return false;
  };
  // server.close() calls closeIdleConnections() too (Node 19 and later): make it safe for both.
  const closeIdle = server.closeIdleConnections.bind(server);
  server.closeIdleConnections = () => {
    if (!flushing()) closeIdle();
  };

  return (graceMs) =>
    new Promise<void>((resolve) => {
      const reaper = setInterval(() => server.closeIdleConnections(), 100);
      const deadline = setTimeout(() => server.closeAllConnections(), graceMs);
      server.close(() => {
        clearInterval(reaper);
        clearTimeout(deadline);
        resolve();
      });
    });
}
