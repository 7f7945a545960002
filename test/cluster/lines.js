'use strict';
// Shared by the scripts of test/cluster: JSON lines on stdout (out), commands as JSON lines on
// stdin (onCommand), and the JSON form of values that JSON cannot hold: a Buffer is
// {"$bin": "<hex>"}, a Date {"$date": <ms>}.

const readline = require('readline');

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function toJSONValue(v) {
  if (Buffer.isBuffer(v)) return { $bin: v.toString('hex') };
  if (ArrayBuffer.isView(v)) return { $bin: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex') };
  if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString('hex') };
  if (v instanceof Date) return { $date: v.getTime() };
  if (Array.isArray(v)) return v.map(toJSONValue);
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v)) o[k] = toJSONValue(v[k]);
    return o;
  }
  return v;
}

function fromJSONValue(v) {
  if (Array.isArray(v)) return v.map(fromJSONValue);
  if (v && typeof v === 'object') {
    if (typeof v.$bin === 'string') return Buffer.from(v.$bin, 'hex');
    if (typeof v.$date === 'number') return new Date(v.$date);
    const o = {};
    for (const k of Object.keys(v)) o[k] = fromJSONValue(v[k]);
    return o;
  }
  return v;
}

// onCommand calls handler for each command line; its result (or error) is reported as
// {"id": <the command's id>, "result": ...} or {"id": ..., "error": "..."}.
function onCommand(handler) {
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', async (line) => {
    let cmd;
    try {
      cmd = JSON.parse(line);
    } catch (err) {
      out({ error: 'bad command line: ' + err.message });
      return;
    }
    try {
      const result = await handler(cmd);
      out({ id: cmd.id, result: toJSONValue(result === undefined ? null : result) });
    } catch (err) {
      out({ id: cmd.id, error: String(err && err.message), responses: toJSONValue(err && err.responses) });
    }
  });
  rl.on('close', () => process.exit(0)); // the test closed stdin: it is done with us
}

module.exports = { out, toJSONValue, fromJSONValue, onCommand };
