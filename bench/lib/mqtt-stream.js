// @ts-check
import net from 'node:net';
import { clearInterval, setInterval } from 'node:timers';
import { connectAsync } from 'mqtt';

/**
 * The broker for the MQTT phase: the machine's Mosquitto on 127.0.0.1:1883 when it answers,
 * else an in-process aedes broker on a free port (a devDependency, as for the tests).
 *
 * @returns {Promise<{ url: string, kind: string, stop: () => Promise<void> }>}
 */
export async function benchBroker() {
  const system = 'mqtt://127.0.0.1:1883';
  try {
    const probe = await connectAsync(system, { connectTimeout: 2000, reconnectPeriod: 0 });
    await probe.endAsync(true);
    return { url: system, kind: 'mosquitto 127.0.0.1:1883', stop: async () => undefined };
  } catch {
    const { Aedes } = await import('aedes');
    const broker = await Aedes.createBroker();
    const server = net.createServer(broker.handle);
    await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
    const { port } = /** @type {net.AddressInfo} */ (server.address());
    return {
      url: `mqtt://127.0.0.1:${port}`,
      kind: 'aedes (in-process)',
      stop: async () => {
        await new Promise((resolve) => server.close(() => resolve(undefined)));
        await new Promise((resolve) => broker.close(() => resolve(undefined)));
      },
    };
  }
}

/**
 * IoTaaP OS status reports from `ids`, `perMinute` messages a minute in all (each device in
 * turn), published on `/<mqttUser>/devices/<id>/status` as the devices do (QoS 0), until stop().
 *
 * @param {string} brokerUrl
 * @param {string} mqttUser
 * @param {string[]} ids
 * @param {number} perMinute
 */
export async function startStatusStream(brokerUrl, mqttUser, ids, perMinute) {
  const client = await connectAsync(brokerUrl, { clientId: `bench-stream-${process.pid}` });
  const tickMs = 50;
  const perTick = perMinute / 60 / (1000 / tickMs);
  let owed = 0;
  let next = 0;
  let sent = 0;
  const started = Date.now();
  const timer = setInterval(() => {
    owed += perTick;
    for (; owed >= 1; owed--) {
      const id = ids[next++ % ids.length];
      const status = { battery: 100, uptime: sent, core_version: '3.0.3', fw_version: '1.0.4' };
      client.publish(`/${mqttUser}/devices/${id}/status`, JSON.stringify(status), { qos: 0 });
      sent++;
    }
  }, tickMs);
  return {
    async stop() {
      clearInterval(timer);
      await client.endAsync();
      return { sent, perSecond: sent / ((Date.now() - started) / 1000) };
    },
  };
}
