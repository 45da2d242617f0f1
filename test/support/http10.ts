import net from 'node:net';
import tls from 'node:tls';

export interface RawResponse {
  statusLine: string;
  status: number;
  /** Lowercased names. */
  headers: Record<string, string>;
  body: Buffer;
}

/** For an `https:` base: the CA to trust and the name to ask for (SNI, certificate, Host). */
export interface Http10Tls {
  ca: Buffer;
  servername: string;
}

/**
 * A GET over a raw socket with the request line `HTTP/1.0`, as the Arduino updater sends it
 * (node:http cannot send 1.0). Reads until the server closes the connection. An `https:` base
 * speaks TLS, as HTTPUpdate does with a WiFiClientSecure; `Host` is then the servername
 * (a `Host` in `headers` wins).
 */
export function rawHttp10(
  base: string,
  pathname: string,
  headers: Record<string, string> = {},
  secure?: Http10Tls,
): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket =
      url.protocol === 'https:'
        ? tls.connect({
            host: url.hostname,
            port: Number(url.port),
            ca: secure?.ca,
            servername: secure?.servername,
          })
        : net.connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const raw = Buffer.concat(chunks);
      const split = raw.indexOf('\r\n\r\n');
      if (split < 0)
        return reject(new Error(`no header end in: ${raw.toString('latin1').slice(0, 200)}`));
      const [statusLine, ...lines] = raw.subarray(0, split).toString('latin1').split('\r\n');
      const parsed: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        parsed[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({
        statusLine,
        status: Number(statusLine.split(' ')[1]),
        headers: parsed,
        body: raw.subarray(split + 4),
      });
    });
    const lines = [
      `GET ${pathname} HTTP/1.0`,
      ...(Object.keys(headers).some((name) => name.toLowerCase() === 'host')
        ? []
        : [`Host: ${secure?.servername ?? url.host}`]),
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ];
    socket.write(lines.join('\r\n') + '\r\n\r\n');
  });
}
