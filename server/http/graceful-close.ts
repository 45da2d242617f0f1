import type http from 'node:http';

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
 * server's closeIdleConnections() therefore does nothing while any response is in that state;
 * the sweep every 100 ms closes the idle ones once none is.
 *
 * Call it when the server is created; call the function it returns on shutdown.
 */
export function trackResponses(server: http.Server): (graceMs: number) => Promise<void> {
  const inFlight = new Set<http.ServerResponse>();
  server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    inFlight.add(res);
    // 'close' follows 'finish' (the last byte handed to the kernel) or a connection cut short.
    res.once('close', () => inFlight.delete(res));
  });
  const flushing = (): boolean => {
    for (const res of inFlight) if (res.writableEnded && !res.writableFinished) return true;
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
