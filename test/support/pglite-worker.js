// @ts-check
/**
 * The PGlite side of test/support/postgres.ts, in a worker thread of its own: PGlite instances
 * (with the citext and pg_trgm extensions loaded), each served over the PostgreSQL wire
 * protocol on a port of its own. In a worker, not on the test's main thread, so that a client
 * that blocks the main thread while it waits for a query (a synchronous connection: a worker
 * thread plus Atomics.wait) cannot stop the server that is to answer it.
 *
 * Messages in: { id, op: 'start' } (answer { id, port }) and { id, op: 'stop', port } (answer
 * { id }); failures answer { id, error }.
 *
 * What pglite-socket does not do and this file adds: PGlite is one backend, one session, shared
 * by every connection, so a notification comes back in the reply to the NOTIFY itself (the
 * session listens), on the notifier's connection, not on the connection that sent LISTEN. Each
 * client connection therefore goes through a small relay here that takes NotificationResponse
 * messages out of whatever reply carries them and hands them to the connections that LISTENed
 * on the channel.
 *
 * The relay also lets one connection's request at a time reach the server. pglite-socket
 * queues each protocol message on its own, so two connections' extended queries (Parse, Bind,
 * Execute, Sync) interleave in the one session and take each other's unnamed statement and
 * portal ("unnamed prepared statement does not exist"). A request (the messages up to Sync, or
 * a simple Query) goes in only when the one before it has been answered (ReadyForQuery); while
 * that answer says a transaction is open, only the same connection's requests go in, as a
 * server's other sessions would wait for its locks.
 */
import { Buffer } from 'node:buffer';
import net from 'node:net';
import { parentPort } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { citext } from '@electric-sql/pglite/contrib/citext';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const SSL_REQUEST_CODE = 80877103;

/** @type {Map<number, () => Promise<void>>} stop functions by public port */
const running = new Map();

/** @type {Promise<PGlite> | undefined} an initialised instance the next ones are cloned from */
let template;

async function newInstance() {
  template ??= PGlite.create({ extensions: { citext, pg_trgm } });
  // A clone (a dump and restore of the template's data directory) takes about half the time
  // of an initdb.
  return /** @type {PGlite} */ (await (await template).clone());
}

/** @returns {Promise<number>} the public port */
async function start() {
  const db = await newInstance();
  // pglite-socket's default is maxConnections: 1 (a second client is refused with "Too many
  // connections"); the registry opens several.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 64 });
  await server.start();
  const innerPort = Number(server.getServerConn().split(':').pop());
  const relay = notificationRelay(innerPort);
  await new Promise((resolve, reject) => {
    relay.server.once('error', reject);
    relay.server.listen(0, '127.0.0.1', () => resolve(undefined));
  });
  const address = relay.server.address();
  if (!address || typeof address !== 'object') throw new Error('relay has no port');
  running.set(address.port, async () => {
    running.delete(address.port);
    await relay.close();
    await server.stop();
    await db.close();
  });
  return address.port;
}

/**
 * A TCP relay in front of the socket server on `innerPort`, one inner connection per client.
 *
 * @param {number} innerPort
 */
function notificationRelay(innerPort) {
  /** @type {Set<{ client: net.Socket, channels: Set<string> }>} */
  const connections = new Set();
  /** @param {Buffer} message an 'A' message */
  const deliver = (message) => {
    const end = message.indexOf(0, 9);
    const channel = message.subarray(9, end).toString();
    for (const connection of connections) {
      if (connection.channels.has(channel) && connection.client.writable) {
        connection.client.write(message);
      }
    }
  };
  /** @typedef {{ inner: net.Socket, unit: Buffer[] }} Request */
  /** @type {Request[]} requests waiting for the server */
  const waiting = [];
  /** @type {net.Socket | null} the inner connection whose request the server answers now */
  let answering = null;
  /** @type {net.Socket | null} the inner connection with a transaction open */
  let inTransaction = null;
  const dispatch = () => {
    if (answering) return;
    const index = inTransaction ? waiting.findIndex((r) => r.inner === inTransaction) : 0;
    if (index === -1 || waiting.length === 0) return;
    const [request] = waiting.splice(index, 1);
    answering = request.inner;
    request.inner.write(Buffer.concat(request.unit));
  };
  /** @param {net.Socket} inner @param {number} status of its ReadyForQuery */
  const answered = (inner, status) => {
    if (answering !== inner) return;
    answering = null;
    inTransaction = status === 0x49 /* I */ ? null : inner;
    dispatch();
  };
  /** @param {net.Socket} inner */
  const gone = (inner) => {
    for (let i = waiting.length - 1; i >= 0; i--)
      if (waiting[i].inner === inner) waiting.splice(i, 1);
    if (inTransaction === inner) inTransaction = null;
    if (answering === inner) answering = null;
    dispatch();
  };
  const server = net.createServer((client) => {
    const inner = net.connect(innerPort, '127.0.0.1');
    const connection = { client, channels: new Set() };
    connections.add(connection);
    /** @type {Buffer[]} messages of the request being read */
    let unit = [];
    client.setNoDelay(true);
    inner.setNoDelay(true);
    let sslRequested = false;
    const fromClient = messageReader(true, (message, typed) => {
      if (!typed && message.length === 8 && message.readInt32BE(4) === SSL_REQUEST_CODE) {
        sslRequested = true;
      }
      if (typed && (message[0] === 0x51 || message[0] === 0x50)) {
        noteListens(message, connection.channels);
      }
      // The start-up exchange and Terminate go straight through; requests wait their turn.
      if (!typed || message[0] === 0x58 /* X */) {
        inner.write(message);
        return;
      }
      unit.push(message);
      if (message[0] === 0x53 /* Sync */ || message[0] === 0x51 /* Query */) {
        waiting.push({ inner, unit });
        unit = [];
        dispatch();
      }
    });
    const fromServer = messageReader(false, (message) => {
      if (message[0] === 0x41) deliver(message);
      else client.write(message);
      if (message[0] === 0x5a /* ReadyForQuery */) answered(inner, message[5]);
    });
    client.on('data', (data) => fromClient(data));
    inner.on('data', (data) => {
      if (sslRequested && data[0] === 0x4e) {
        // pglite-socket's single-byte "no SSL" answer, not a message
        sslRequested = false;
        client.write(data.subarray(0, 1));
        data = data.subarray(1);
      }
      fromServer(data);
    });
    const closeBoth = () => {
      gone(inner);
      connections.delete(connection);
      client.destroy();
      inner.destroy();
    };
    client.on('close', closeBoth);
    inner.on('close', closeBoth);
    client.on('error', closeBoth);
    inner.on('error', closeBoth);
  });
  return {
    server,
    close: () =>
      new Promise((resolve) => {
        for (const { client } of connections) client.destroy();
        server.close(() => resolve(undefined));
      }),
  };
}

/**
 * Splits a byte stream into whole protocol messages. A client's stream starts with untyped
 * messages (SSLRequest, then StartupMessage: a length and no type byte).
 *
 * @param {boolean} startsUntyped
 * @param {(message: Buffer, typed: boolean) => void} onMessage
 */
function messageReader(startsUntyped, onMessage) {
  /** @type {Buffer} */
  let buffered = Buffer.alloc(0);
  let untyped = startsUntyped;
  return (/** @type {Buffer} */ data) => {
    buffered = buffered.length ? Buffer.concat([buffered, data]) : data;
    for (;;) {
      const offset = untyped ? 0 : 1;
      if (buffered.length < offset + 4) break;
      const length = offset + buffered.readInt32BE(offset);
      if (buffered.length < length) break;
      const message = buffered.subarray(0, length);
      buffered = buffered.subarray(length);
      const wasUntyped = untyped;
      // SSLRequest keeps the stream untyped; the StartupMessage (protocol 3.0) ends that part
      if (untyped && message.length >= 8 && message.readInt32BE(4) === 196608) untyped = false;
      onMessage(message, !wasUntyped);
    }
  };
}

/**
 * Updates `channels` from the LISTEN / UNLISTEN statements in a Query ('Q') or Parse ('P')
 * message. Channel names as PostgreSQL folds them: unquoted ones in lower case.
 *
 * @param {Buffer} message
 * @param {Set<string>} channels
 */
function noteListens(message, channels) {
  const sql = message.subarray(5).toString();
  const statement = /\b(UNLISTEN|LISTEN)\s+("(?:[^"]|"")+"|[\w$]+|\*)/gi;
  for (const [, verb, name] of sql.matchAll(statement)) {
    const channel = name.startsWith('"')
      ? name.slice(1, -1).replace(/""/g, '"')
      : name.toLowerCase();
    if (verb.toUpperCase() === 'LISTEN') channels.add(channel);
    else if (channel === '*') channels.clear();
    else channels.delete(channel);
  }
}

if (!parentPort) throw new Error('pglite-worker.js runs as a worker thread');
const port = parentPort;
port.on('message', (/** @type {{ id: number, op: string, port?: number }} */ request) => {
  const work =
    request.op === 'start'
      ? start().then((listening) => ({ port: listening }))
      : (running.get(request.port ?? -1)?.() ?? Promise.resolve()).then(() => ({}));
  work.then(
    (answer) => port.postMessage({ id: request.id, ...answer }),
    (error) => port.postMessage({ id: request.id, error: String(error?.stack ?? error) }),
  );
});
