import { afterEach, expect, jest, test } from '@jest/globals';
import net from 'node:net';
import { setLogFormat } from '../../../server/log.js';
import { MqttClientLink } from '../../../server/mqtt/mqtt-client-link.js';
import { waitFor } from '../../support/registry.js';

afterEach(() => {
  setLogFormat('text');
  jest.restoreAllMocks();
});

/** A port nothing listens on: taken from the system, then given back. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('the MQTT link tells the registry log (server/log.ts) when it loses its broker, in its format', async () => {
  const lines = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  setLogFormat('json');
  const url = `mqtt://127.0.0.1:${await closedPort()}`;
  const link = new MqttClientLink({ url, displayUrl: url, minBackoffMs: 50, maxBackoffMs: 100 });
  try {
    await waitFor(() => lines.mock.calls.length > 0, 'a log line');
    const line = JSON.parse(String(lines.mock.calls[0][0])) as Record<string, unknown>;
    expect(line).toEqual({
      time: expect.any(String),
      level: 'warn',
      message: expect.stringMatching(
        new RegExp(`^MQTT disconnected from ${url} \\(.*\\): reconnecting in [\\d.]+ s$`),
      ),
    });
  } finally {
    await link.close();
  }
});
