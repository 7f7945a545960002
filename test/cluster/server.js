'use strict';
// A Node.js cluster node for the mixed-cluster tests: socket.io 4.8.4 with
// @socket.io/redis-adapter 8.3.0 (classic createAdapter, default options except the key), on
// node-redis 4.7, as a Node app migrating to Go would run it.
//
// Environment: REDIS_URL, KEY (adapter key prefix), NAME (this node's name in answers),
// NAMESPACES (comma-separated, "/" always included).
// Clients pass auth {name, rooms}: the socket joins rooms and keeps name in socket.data.
// Stdout: {"ready": <port>, "uid": {<nsp>: <adapter uid>}} once listening, then one line per
// server-side event received ({"serverSide": event, "nsp", "args"}) and per command answered.
// Stdin: commands, see the switch below. Any uncaught error kills the process, which the Go
// test notices: that is the "Node never crashes on what Go publishes" check.

const http = require('http');
const { Server } = require('socket.io');
const { createAdapter } = require('@socket.io/redis-adapter');
const { createClient } = require('redis');
const { out, fromJSONValue, onCommand } = require('./lines');

async function main() {
  const name = process.env.NAME || 'node';
  const pub = createClient({ url: process.env.REDIS_URL });
  const sub = pub.duplicate();
  pub.on('error', (err) => out({ redisError: String(err.message) }));
  sub.on('error', (err) => out({ redisError: String(err.message) }));
  await Promise.all([pub.connect(), sub.connect()]);

  const httpServer = http.createServer();
  const io = new Server(httpServer, {
    adapter: createAdapter(pub, sub, { key: process.env.KEY || 'socket.io' }),
  });
  const namespaces = new Set(['/', ...(process.env.NAMESPACES || '').split(',').filter(Boolean)]);
  for (const nspName of namespaces) {
    const nsp = io.of(nspName);
    nsp.on('connection', (socket) => {
      const auth = socket.handshake.auth || {};
      socket.data = { name: auth.name || '' };
      if (Array.isArray(auth.rooms)) socket.join(auth.rooms);
    });
    nsp.on('plain-servers', (...args) => out({ serverSide: 'plain-servers', nsp: nspName, args }));
    nsp.on('ping-servers', (...args) => {
      const cb = args.pop();
      out({ serverSide: 'ping-servers', nsp: nspName, args });
      cb('pong-from-' + name);
    });
  }

  const target = (cmd) => {
    let op = io.of(cmd.nsp || '/');
    if (cmd.rooms && cmd.rooms.length) op = op.to(cmd.rooms);
    if (cmd.except && cmd.except.length) op = op.except(cmd.except);
    if (cmd.volatile) op = op.volatile;
    if (cmd.local) op = op.local;
    return op;
  };

  onCommand(async (cmd) => {
    const nsp = io.of(cmd.nsp || '/');
    const args = fromJSONValue(cmd.args || []);
    switch (cmd.op) {
      case 'ping':
        return 'pong';
      case 'emit':
        target(cmd).emit(cmd.event, ...args);
        return true;
      case 'emitWithAck':
        return await target(cmd).timeout(cmd.timeout || 2000).emitWithAck(cmd.event, ...args);
      case 'fetchSockets': {
        const sockets = await target(cmd).fetchSockets();
        return sockets.map((s) => ({ id: s.id, rooms: [...s.rooms], data: s.data, auth: s.handshake.auth }));
      }
      case 'socketsJoin':
        target(cmd).socketsJoin(cmd.join);
        return true;
      case 'socketsLeave':
        target(cmd).socketsLeave(cmd.leave);
        return true;
      case 'disconnectSockets':
        target(cmd).disconnectSockets(!!cmd.close);
        return true;
      case 'serverSideEmit':
        nsp.serverSideEmit(cmd.event, ...args);
        return true;
      case 'serverSideEmitWithAck':
        return await nsp.serverSideEmitWithAck(cmd.event, ...args);
      case 'allRooms':
        return [...(await nsp.adapter.allRooms())];
      case 'serverCount':
        return await nsp.adapter.serverCount();
      case 'localRooms': {
        // room -> socket ids held by this node, to check joins and leaves
        const rooms = {};
        for (const [room, sids] of nsp.adapter.rooms) rooms[room] = [...sids];
        return rooms;
      }
      default:
        throw new Error('unknown op ' + cmd.op);
    }
  });

  // The adapters' SUBSCRIBE commands went out on sub before this one: once it is confirmed,
  // they are too, and this node counts in PUBSUB NUMSUB.
  await sub.subscribe('ready-probe-' + name + '-' + process.pid, () => {});

  httpServer.listen(0, '127.0.0.1', () => {
    const uid = {};
    for (const nspName of namespaces) uid[nspName] = io.of(nspName).adapter.uid;
    out({ ready: httpServer.address().port, uid });
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
