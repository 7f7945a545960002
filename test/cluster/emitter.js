'use strict';
// @socket.io/redis-emitter 5.1.0 driven by commands on stdin, for the cluster tests and for
// comparing the Go emitter's bytes with the real ones.
//
// Environment: REDIS_URL, KEY (prefix). Stdout: {"ready": true}, then one answer per command.
// Commands: {"op": "emit" | "socketsJoin" | "socketsLeave" | "disconnectSockets" |
// "serverSideEmit", "nsp", "rooms", "except", "volatile", "compress", "event", "args", "join",
// "leave", "close"}. Flags are applied in the order of the "flagOrder" list when present.

const { Emitter } = require('@socket.io/redis-emitter');
const { createClient } = require('redis');
const { out, fromJSONValue, onCommand } = require('./lines');

async function main() {
  const client = createClient({ url: process.env.REDIS_URL });
  client.on('error', (err) => out({ redisError: String(err.message) }));
  await client.connect();
  const root = new Emitter(client, { key: process.env.KEY || 'socket.io' });

  onCommand(async (cmd) => {
    const e = cmd.nsp && cmd.nsp !== '/' ? root.of(cmd.nsp) : root;
    let op = e;
    if (cmd.rooms) op = op.to(cmd.rooms);
    if (cmd.except) op = op.except(cmd.except);
    for (const flag of cmd.flagOrder || ['volatile', 'compress']) {
      if (flag === 'volatile' && cmd.volatile) op = op.volatile;
      if (flag === 'compress' && cmd.compress !== undefined) op = op.compress(cmd.compress);
    }
    const args = fromJSONValue(cmd.args || []);
    switch (cmd.op) {
      case 'emit':
        op.emit(cmd.event, ...args);
        break;
      case 'socketsJoin':
        op.socketsJoin(cmd.join);
        break;
      case 'socketsLeave':
        op.socketsLeave(cmd.leave);
        break;
      case 'disconnectSockets':
        op.disconnectSockets(!!cmd.close);
        break;
      case 'serverSideEmit':
        e.serverSideEmit(cmd.event, ...args);
        break;
      default:
        throw new Error('unknown op ' + cmd.op);
    }
    await client.ping(); // the publish went out before this answer (one connection, in order)
    return true;
  });
  out({ ready: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
