'use strict';
// The Node.js reference Realtime Service: the service contract of DESIGN.md implemented the
// plain, idiomatic way on socket.io 4.8 (what the seed service does), so that the load tool can
// compare our Go service with it side by side. Keep it a fair baseline: no per-message logging,
// no artificial work, defaults as socket.io ships them.
//
// Run:  NODE_PATH=test/node/node_modules PORT=3000 JWT_SECRET=... INTERNAL_SERVICE_KEY=... \
//         node bench/peers/node/server.js
// It prints "listening on <port>" once it accepts connections.
//
// The file can also be required: createService(config) returns the http server and the socket.io
// server, so that test scripts can add handlers to the same service.

const http = require('http');
const crypto = require('crypto');
const { Server } = require('socket.io');
const jwt = require('jsonwebtoken');

const RESERVED_EVENTS = new Set([
  'connect',
  'connect_error',
  'disconnect',
  'disconnecting',
  'newListener',
  'removeListener',
]);

const MAX_BODY_BYTES = 1 << 20; // as the Go service's default

function configFromEnv(env) {
  const intEnv = (name) => (env[name] ? Number.parseInt(env[name], 10) : undefined);
  return {
    port: env.PORT === undefined ? 3000 : Number.parseInt(env.PORT, 10),
    host: env.HOST || undefined,
    jwtSecret: env.JWT_SECRET,
    internalKey: env.INTERNAL_SERVICE_KEY,
    frontendURL: env.FRONTEND_URL,
    redisURL: env.REDIS_URL,
    redisKey: env.REDIS_KEY || undefined,
    namespaces: (env.NAMESPACES || '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s && s !== '/'),
    // Tests shorten the heartbeat; production keeps socket.io's defaults (25 s / 20 s).
    pingInterval: intEnv('PING_INTERVAL'),
    pingTimeout: intEnv('PING_TIMEOUT'),
    debug: env.LOG_LEVEL === 'debug',
  };
}

function corsOptions(frontendURL) {
  if (!frontendURL) {
    console.warn('FRONTEND_URL is not set: any origin is allowed, without credentials');
    return { origin: '*' };
  }
  const origins = frontendURL.split(',').map((s) => s.trim()).filter(Boolean);
  return { origin: origins, credentials: true };
}

// authenticate is the handshake middleware: auth.token must be an HS256 JWT signed with the
// secret; its _id (or sub) claim is the user and an optional restaurantId marks an owner.
function authenticate(secret) {
  return (socket, next) => {
    const token = socket.handshake.auth && socket.handshake.auth.token;
    if (!token) {
      return next(new Error('Authentication error'));
    }
    let claims;
    try {
      claims = jwt.verify(token, secret, { algorithms: ['HS256'] });
    } catch (err) {
      return next(new Error('Invalid token'));
    }
    const userId = claims._id || claims.sub;
    if (!userId) {
      return next(new Error('Invalid token'));
    }
    socket.data.userId = String(userId);
    if (claims.restaurantId) {
      socket.data.restaurantId = String(claims.restaurantId);
    }
    next();
  };
}

function onConnection(socket) {
  socket.data.connectedAt = new Date().toISOString();
  socket.join(`user:${socket.data.userId}`);
  if (socket.data.restaurantId) {
    socket.join(`restaurant:${socket.data.restaurantId}`);
  }
  socket.on('join_order', (orderId, ack) => {
    if (typeof orderId === 'string' || typeof orderId === 'number') {
      socket.join(`order:${orderId}`);
      if (typeof ack === 'function') ack({ success: true });
    } else if (typeof ack === 'function') {
      ack({ success: false, message: 'orderId is required' });
    }
  });
  socket.on('leave_order', (orderId, ack) => {
    if (typeof orderId === 'string' || typeof orderId === 'number') {
      socket.leave(`order:${orderId}`);
      if (typeof ack === 'function') ack({ success: true });
    } else if (typeof ack === 'function') {
      ack({ success: false, message: 'orderId is required' });
    }
  });
}

class HTTPError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function readJSON(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HTTPError(413, 'request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      // Decode the whole body at once: a UTF-8 character may be split across chunks.
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (err) {
        reject(new HTTPError(400, 'body must be JSON'));
      }
    });
    req.on('error', reject);
  });
}

function sendJSON(res, status, body) {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(data),
  });
  res.end(data);
}

function keyMatches(expected, given) {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

// roomList reads `room` or `rooms` (a string or an array of strings) from body.
function roomList(body, field) {
  const v = body[field] !== undefined ? body[field] : body[field + 's'];
  const rooms = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(rooms) || rooms.length === 0 || !rooms.every((r) => typeof r === 'string' && r)) {
    throw new HTTPError(400, `${field} or ${field}s is required (a string or an array of strings)`);
  }
  return rooms;
}

function createService(config) {
  // The request listener must exist before socket.io attaches: socket.io takes over the
  // server's listeners and passes them only the requests outside /socket.io/.
  const httpServer = http.createServer((req, res) => onRequest(req, res));
  const options = { cors: corsOptions(config.frontendURL) };
  // Only set what was configured: an explicit undefined would override socket.io's defaults.
  if (config.pingInterval) options.pingInterval = config.pingInterval;
  if (config.pingTimeout) options.pingTimeout = config.pingTimeout;
  const io = new Server(httpServer, options);
  const startedAt = Date.now();
  const namespaces = ['/', ...config.namespaces];
  for (const name of namespaces) {
    const nsp = io.of(name);
    nsp.use(authenticate(config.jwtSecret));
    nsp.on('connection', onConnection);
  }
  if (config.debug) {
    io.on('connection', (socket) => {
      console.log(`connect ${socket.id} user=${socket.data.userId}`);
      socket.on('disconnect', (reason) => console.log(`disconnect ${socket.id} ${reason}`));
    });
  }

  function namespaceOf(body) {
    const name = body.namespace === undefined ? '/' : body.namespace;
    if (typeof name !== 'string' || !namespaces.includes(name)) {
      throw new HTTPError(400, 'namespace is not served');
    }
    return io.of(name);
  }

  // emitOne performs one emit of the internal API and resolves with its result object.
  function emitOne(body) {
    if (!isObject(body)) throw new HTTPError(400, 'emit must be an object');
    const { event, payload } = body;
    if (typeof event !== 'string' || !event) throw new HTTPError(400, 'event is required');
    if (RESERVED_EVENTS.has(event)) throw new HTTPError(400, `event "${event}" is reserved`);
    const rooms = roomList(body, 'room');
    let op = namespaceOf(body).to(rooms);
    if (body.except !== undefined) {
      const except = typeof body.except === 'string' ? [body.except] : body.except;
      if (!Array.isArray(except) || !except.every((r) => typeof r === 'string')) {
        throw new HTTPError(400, 'except must be a string or an array of strings');
      }
      op = op.except(except);
    }
    if (body.volatile === true) op = op.volatile;
    const args = payload === undefined ? [] : [payload];
    if (body.ack === undefined) {
      op.emit(event, ...args);
      return Promise.resolve({ success: true });
    }
    const timeoutMs = isObject(body.ack) ? body.ack.timeoutMs : undefined;
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > 60000) {
      throw new HTTPError(400, 'ack.timeoutMs must be an integer between 1 and 60000');
    }
    return new Promise((resolve) => {
      op.timeout(timeoutMs).emit(event, ...args, (err, responses) => {
        resolve({ success: true, responses: responses || [], timedOut: Boolean(err) });
      });
    });
  }

  async function emitBatch(body) {
    if (!isObject(body) || !Array.isArray(body.emits) || body.emits.length === 0) {
      throw new HTTPError(400, 'emits must be a non-empty array');
    }
    if (body.emits.length > 1000) throw new HTTPError(400, 'emits holds more than 1000 entries');
    // Validate everything first so that a bad entry fails the request before anything is sent.
    body.emits.forEach((e, i) => {
      try {
        if (!isObject(e)) throw new HTTPError(400, 'emit must be an object');
        if (typeof e.event !== 'string' || !e.event || RESERVED_EVENTS.has(e.event)) {
          throw new HTTPError(400, 'event is required and must not be reserved');
        }
        roomList(e, 'room');
      } catch (err) {
        throw new HTTPError(400, `emits[${i}]: ${err.message}`);
      }
    });
    const results = await Promise.all(body.emits.map((e) => emitOne(e)));
    return { success: true, results };
  }

  function roomsJoinLeave(body, join) {
    if (!isObject(body)) throw new HTTPError(400, 'body must be an object');
    const rooms = roomList(body, 'room');
    const field = join ? 'join' : 'leave';
    const target = typeof body[field] === 'string' ? [body[field]] : body[field];
    if (!Array.isArray(target) || target.length === 0 || !target.every((r) => typeof r === 'string' && r)) {
      throw new HTTPError(400, `${field} is required (a string or an array of strings)`);
    }
    const op = namespaceOf(body).in(rooms);
    if (join) op.socketsJoin(target);
    else op.socketsLeave(target);
    return { success: true };
  }

  function disconnect(body) {
    if (!isObject(body)) throw new HTTPError(400, 'body must be an object');
    const rooms = roomList(body, 'room');
    namespaceOf(body).in(rooms).disconnectSockets(body.close === true);
    return { success: true };
  }

  async function sockets(url) {
    const room = url.searchParams.get('room');
    if (!room) throw new HTTPError(400, 'room is required');
    const nsp = namespaceOf({ namespace: url.searchParams.get('namespace') || undefined });
    const found = await nsp.in(room).fetchSockets();
    return {
      sockets: found.map((s) => ({
        id: s.id,
        userId: s.data.userId,
        rooms: [...s.rooms],
        connectedAt: s.data.connectedAt,
      })),
    };
  }

  async function route(req, res) {
    const url = new URL(req.url, 'http://localhost');
    const path = url.pathname;
    if (path === '/health' && req.method === 'GET') {
      return sendJSON(res, 200, {
        status: 'healthy',
        activeConnections: io.of('/').sockets.size,
        uptime: (Date.now() - startedAt) / 1000,
      });
    }
    if (path === '/ready' && req.method === 'GET') {
      return sendJSON(res, 200, { status: 'ready' });
    }
    if (!path.startsWith('/api/v1/internal/')) {
      return sendJSON(res, 404, { message: 'Not found' });
    }
    if (!keyMatches(config.internalKey, req.headers['x-internal-key'])) {
      return sendJSON(res, 403, { message: 'Forbidden' });
    }
    const posts = {
      '/api/v1/internal/emit': emitOne,
      '/api/v1/internal/emit/batch': emitBatch,
      '/api/v1/internal/rooms/join': (b) => roomsJoinLeave(b, true),
      '/api/v1/internal/rooms/leave': (b) => roomsJoinLeave(b, false),
      '/api/v1/internal/disconnect': disconnect,
    };
    if (posts[path]) {
      if (req.method !== 'POST') return sendJSON(res, 405, { message: 'Method not allowed' });
      return sendJSON(res, 200, await posts[path](await readJSON(req)));
    }
    if (path === '/api/v1/internal/sockets') {
      if (req.method !== 'GET') return sendJSON(res, 405, { message: 'Method not allowed' });
      return sendJSON(res, 200, await sockets(url));
    }
    return sendJSON(res, 404, { message: 'Not found' });
  }

  function onRequest(req, res) {
    route(req, res).catch((err) => {
      if (res.headersSent) return;
      if (err instanceof HTTPError) {
        sendJSON(res, err.status, { message: err.message });
      } else {
        console.error('internal API error:', err);
        sendJSON(res, 500, { message: 'Internal error' });
      }
    });
  }

  async function start() {
    if (config.redisURL) {
      // Required lazily so that a run without Redis needs neither package.
      const { createClient } = require('redis');
      const { createAdapter } = require('@socket.io/redis-adapter');
      const pubClient = createClient({ url: config.redisURL });
      const subClient = pubClient.duplicate();
      pubClient.on('error', (err) => console.error('redis pub:', err.message));
      subClient.on('error', (err) => console.error('redis sub:', err.message));
      await Promise.all([pubClient.connect(), subClient.connect()]);
      // io.adapter() also re-creates the adapters of the namespaces declared above.
      io.adapter(createAdapter(pubClient, subClient, config.redisKey ? { key: config.redisKey } : {}));
      service.redis = [pubClient, subClient];
    }
    await new Promise((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.port, config.host, resolve);
    });
    return httpServer.address().port;
  }

  async function close() {
    const closed = new Promise((resolve) => io.close(() => resolve()));
    // Keep-alive connections and requests still in flight would hold httpServer.close open.
    httpServer.closeAllConnections();
    await closed;
    for (const c of service.redis) await c.quit().catch(() => {});
  }

  const service = { httpServer, io, start, close, redis: [] };
  return service;
}

module.exports = { createService, configFromEnv };

if (require.main === module) {
  const config = configFromEnv(process.env);
  if (!config.jwtSecret || !config.internalKey) {
    console.error('JWT_SECRET and INTERNAL_SERVICE_KEY are required');
    process.exit(2);
  }
  const service = createService(config);
  service
    .start()
    .then((port) => console.log(`listening on ${port}`))
    .catch((err) => {
      console.error('start:', err);
      process.exit(1);
    });
  const stop = () => {
    service.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
