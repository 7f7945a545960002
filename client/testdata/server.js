'use strict';
// The Node.js reference service (bench/peers/node/server.js) with a few handlers added for the
// client's tests. nodepeer.Start sets REFERENCE_SERVER to the service's path.
const { createService, configFromEnv } = require(process.env.REFERENCE_SERVER);

const service = createService(configFromEnv(process.env));
const io = service.io;
let lastReason = '';

function addTestHandlers(socket) {
  socket.emit('welcome', socket.id);
  socket.on('disconnect', (reason) => {
    lastReason = `${socket.nsp.name} ${reason}`;
  });
  // echo sends the arguments back: as an acknowledgement when one is asked for, else as an
  // "echo" event.
  socket.on('echo', (...args) => {
    const ack = typeof args[args.length - 1] === 'function' ? args.pop() : null;
    if (ack) ack(...args);
    else socket.emit('echo', ...args);
  });
  // ask-me makes the server ask the client a question with an acknowledgement and report the
  // answer in an "answer" event.
  socket.on('ask-me', (payload) => {
    socket.timeout(5000).emit('question', payload, Buffer.from([1, 2, 3]), (err, ...answer) => {
      if (err) socket.emit('answer-error', err.message);
      else socket.emit('answer', ...answer);
    });
  });
  socket.on('disconnect-me', (close) => socket.disconnect(close === true));
  socket.on('last-reason', (ack) => ack(lastReason));
  socket.on('whoami', (ack) => ack({ address: socket.handshake.address, transport: socket.conn.transport.name }));
  socket.on('binary-info', (buf, ack) => ack({ isBuffer: Buffer.isBuffer(buf), length: buf.length, first: buf[0] }));
}

for (const nsp of ['/', '/orders']) io.of(nsp).on('connection', addTestHandlers);

// /strict refuses every connection with data, as an auth middleware may.
io.of('/strict').use((socket, next) => {
  const err = new Error('not allowed');
  err.data = { code: 42, why: 'testing' };
  next(err);
});

service
  .start()
  .then((port) => console.log(`listening on ${port}`))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
process.on('SIGTERM', () => service.close().finally(() => process.exit(0)));
