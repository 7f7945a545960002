'use strict';
// Official socket.io-client 4.8.4 clients for the cluster tests.
//
// argv[2]: JSON list of {name, url, nsp, rooms, transports}. Each client connects with auth
// {name, rooms} and reports on stdout:
//   {"client": name, "connected": <socket id>}
//   {"client": name, "event": ev, "args": [...]}   (Buffers as {"$bin": hex})
//   {"client": name, "disconnected": reason}
//   {"client": name, "connectError": message}
// Events that ask for an acknowledgement are answered with "ack-from-<name>".
// Stdin: {"op": "emit", "client", "event", "args"} makes a client emit.

const { io } = require('socket.io-client');
const { out, toJSONValue, fromJSONValue, onCommand } = require('./lines');

const specs = JSON.parse(process.argv[2]);
const sockets = new Map();

for (const spec of specs) {
  const socket = io(spec.url + (spec.nsp && spec.nsp !== '/' ? spec.nsp : ''), {
    auth: { name: spec.name, rooms: spec.rooms || [] },
    transports: spec.transports || ['websocket'],
    forceNew: true,
    reconnection: false,
  });
  sockets.set(spec.name, socket);
  socket.on('connect', () => out({ client: spec.name, connected: socket.id }));
  socket.on('connect_error', (err) => out({ client: spec.name, connectError: err.message }));
  socket.on('disconnect', (reason) => out({ client: spec.name, disconnected: reason }));
  socket.onAny((event, ...args) => {
    if (typeof args[args.length - 1] === 'function') {
      const ack = args.pop();
      ack('ack-from-' + spec.name);
    }
    out({ client: spec.name, event, args: toJSONValue(args) });
  });
}

onCommand(async (cmd) => {
  switch (cmd.op) {
    case 'emit':
      sockets.get(cmd.client).emit(cmd.event, ...fromJSONValue(cmd.args || []));
      return true;
    default:
      throw new Error('unknown op ' + cmd.op);
  }
});
