package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tomato-code/realtime/internal/testutil"
)

// apiScript drives every route of the internal API against real clients: two tabs of user u1
// (owner of restaurant r1), user u2, and u1 again on the /orders namespace. Events a socket
// must not get are checked with a marker: packets to one socket keep their order, so once the
// marker that follows an emit has arrived, the emit would have arrived before it.
const apiScript = `
const T = process.env.TRANSPORT;
const opts = { transports: [T] };
const a1 = await connect({ token: sign({ _id: 'u1', restaurantId: 'r1' }) }, opts);
const a2 = await connect({ token: sign({ _id: 'u1', restaurantId: 'r1' }) }, opts);
const b = await connect({ token: sign({ _id: 'u2' }) }, opts);
const c = await connect({ token: sign({ _id: 'u1' }) }, Object.assign({ ns: '/orders' }, opts));
const all = [a1, a2, b, c];
const logs = all.map(record);
let markers = 0;
// mark sends a marker to every socket and returns, per socket, the events received since the
// previous mark (markers left out).
const seen = all.map(() => 0);
const mark = async () => {
  const m = 'm' + (markers++);
  const waits = all.map((s) => new Promise((resolve) => {
    const h = (v) => { if (v === m) { s.off('marker', h); resolve(); } };
    s.on('marker', h);
  }));
  await api('/api/v1/internal/emit', { event: 'marker', rooms: ['user:u1', 'user:u2'], payload: m });
  await api('/api/v1/internal/emit', { event: 'marker', rooms: ['user:u1'], payload: m, namespace: '/orders' });
  await Promise.all(waits);
  return logs.map((l, i) => { const got = l.slice(seen[i]).filter((e) => e[0] !== 'marker'); seen[i] = l.length; return got; });
};
const out = {};
out.single = await api('/api/v1/internal/emit', { event: 'order:update', room: 'user:u1', payload: { id: 7, note: 'é 🍅 "quoted"', n: 1.50 } });
out.singleGot = await mark();
await api('/api/v1/internal/emit', { event: 'once', rooms: ['user:u1', 'restaurant:r1', 'user:u1'], payload: 1 });
out.onceGot = await mark();
await api('/api/v1/internal/emit', { event: 'except', rooms: ['user:u1', 'user:u2'], except: 'user:u2' });
out.exceptGot = await mark();
await api('/api/v1/internal/emit', { event: 'vol', room: 'user:u2', volatile: true, payload: null });
out.volatileGot = await mark();
out.ns = await api('/api/v1/internal/emit', { event: 'nsp', room: 'user:u1', namespace: '/orders', payload: 'orders only' });
out.nsGot = await mark();
out.unknownNs = await api('/api/v1/internal/emit', { event: 'x', room: 'user:u1', namespace: '/nope' });

out.join = await api('/api/v1/internal/rooms/join', { room: 'user:u1', join: 'order:7' });
await api('/api/v1/internal/emit', { event: 'order7', room: 'order:7' });
out.joinGot = await mark();
out.leave = await api('/api/v1/internal/rooms/leave', { rooms: ['user:u1'], leave: ['order:7'] });
await api('/api/v1/internal/emit', { event: 'order7', room: 'order:7' });
out.leaveGot = await mark();
out.joinOrderAck = await b.emitWithAck('join_order', 'o1');
out.joinOrderBad = await b.emitWithAck('join_order', { not: 'an id' });
await api('/api/v1/internal/emit', { event: 'o1', room: 'order:o1' });
out.joinOrderGot = await mark();

out.socketsU1 = await api('/api/v1/internal/sockets?room=user:u1', null, { method: 'GET' });
out.socketsOrders = await api('/api/v1/internal/sockets?room=user:u1&namespace=/orders', null, { method: 'GET' });
out.socketsNone = await api('/api/v1/internal/sockets?room=user:nobody', null, { method: 'GET' });
out.ids = { a1: a1.id, a2: a2.id, b: b.id, c: c.id };

out.batch = await api('/api/v1/internal/emit/batch', { emits: [
  { event: 'b1', room: 'user:u2', payload: 1 }, { event: 'b2', room: 'user:u2', payload: 2 },
  { event: 'b3', room: 'user:u1', namespace: '/orders' }] });
out.batchGot = await mark();

// Acknowledgements: first both tabs answer, then only one does.
a1.on('ask', (v, ack) => ack({ from: 'a1', v }));
a2.on('ask', (v, ack) => ack({ from: 'a2', v }));
out.ackAll = await api('/api/v1/internal/emit', { event: 'ask', room: 'user:u1', payload: 1, ack: { timeoutMs: 5000 } });
a2.off('ask');
a2.on('ask', () => {}); // receives, never answers
out.ackOne = await api('/api/v1/internal/emit', { event: 'ask', room: 'user:u1', payload: 2, ack: { timeoutMs: 500 } });
out.ackNobody = await api('/api/v1/internal/emit', { event: 'ask', room: 'user:nobody', payload: 3, ack: { timeoutMs: 500 } });
out.ackBatch = await api('/api/v1/internal/emit/batch', { emits: [{ event: 'plain', room: 'user:u2' }, { event: 'ask', room: 'user:u1', payload: 4, ack: { timeoutMs: 1500 } }] });
out.ackGot = await mark();
// Order in a batch, acknowledgements or not: one socket gets first, second, third.
a1.off('ask');
a1.on('ask', (v, ack) => ack(v));
out.orderBatch = await api('/api/v1/internal/emit/batch', { emits: [
  { event: 'seq', room: 'user:u2', payload: 'first' },
  { event: 'ask', rooms: ['user:u2'], payload: 'second', ack: { timeoutMs: 200 } },
  { event: 'seq', room: 'user:u2', payload: 'third' }] });
out.orderGot = await mark();

const bGone = next(b, 'disconnect');
out.disconnect = await api('/api/v1/internal/disconnect', { room: 'user:u2' });
out.disconnectReason = (await bGone)[0];
const a2Gone = next(a2, 'disconnect');
out.disconnectClose = await api('/api/v1/internal/disconnect', { rooms: ['user:u1'], close: true, except: 'nobody' });
out.disconnectCloseReason = (await a2Gone)[0];
return out;
`

type apiCall struct {
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body"`
}

func TestE2EAPI(t *testing.T) {
	testutil.CheckGoroutines(t)
	for _, transport := range []string{"websocket", "polling"} {
		t.Run(transport, func(t *testing.T) {
			p := startService(t, "NAMESPACES=/orders")
			var out map[string]json.RawMessage
			p.runJS(t, apiScript, &out, "TRANSPORT="+transport)
			check := func(name, want string) {
				t.Helper()
				if got := compact(out[name]); got != compact(json.RawMessage(want)) {
					t.Errorf("%s:\n got %s\nwant %s", name, got, want)
				}
			}
			ok := `{"status":200,"body":{"success":true}}`
			// Per socket: a1, a2 (user u1), b (user u2), c (u1 on /orders).
			check("single", ok)
			check("singleGot", `[[["order:update",{"id":7,"note":"é 🍅 \"quoted\"","n":1.5}]],[["order:update",{"id":7,"note":"é 🍅 \"quoted\"","n":1.5}]],[],[]]`)
			check("onceGot", `[[["once",1]],[["once",1]],[],[]]`)
			check("exceptGot", `[[["except"]],[["except"]],[],[]]`)
			if transport == "websocket" {
				check("volatileGot", `[[],[],[["vol",null]],[]]`)
			} else if got := compact(out["volatileGot"]); got != `[[],[],[["vol",null]],[]]` && got != `[[],[],[],[]]` {
				// Over polling a volatile packet is dropped when no GET is pending.
				t.Errorf("volatileGot: %s", got)
			}
			check("ns", ok)
			check("nsGot", `[[],[],[],[["nsp","orders only"]]]`)
			check("unknownNs", `{"status":400,"body":{"message":"namespace \"/nope\" is not served"}}`)
			check("join", ok)
			check("joinGot", `[[["order7"]],[["order7"]],[],[]]`)
			check("leave", ok)
			check("leaveGot", `[[],[],[],[]]`)
			check("joinOrderAck", `{"success":true}`)
			check("joinOrderBad", `{"success":false,"message":"orderId is required"}`)
			check("joinOrderGot", `[[],[],[["o1"]],[]]`)
			check("socketsNone", `{"status":200,"body":{"sockets":[]}}`)
			check("batch", `{"status":200,"body":{"success":true,"results":[{"success":true},{"success":true},{"success":true}]}}`)
			check("batchGot", `[[],[],[["b1",1],["b2",2]],[["b3"]]]`)
			check("orderGot", `[[],[],[["seq","first"],["ask","second",null],["seq","third"]],[]]`) // the ack callback shows as null
			check("ackNobody", `{"status":200,"body":{"success":true,"responses":[],"timedOut":false}}`)
			check("disconnect", ok)
			check("disconnectReason", `"io server disconnect"`)
			check("disconnectClose", ok)
			// Over polling too: engineio sends the close packet in the response after the
			// DISCONNECT's, so the client handles the DISCONNECT first and does not reconnect.
			check("disconnectCloseReason", `"io server disconnect"`)

			var ids map[string]string
			json.Unmarshal(out["ids"], &ids)
			var listing struct {
				Status int
				Body   struct {
					Sockets []struct {
						ID, UserID, RestaurantID, Transport, ConnectedAt string
						Rooms                                            []string
					}
				}
			}
			json.Unmarshal(out["socketsU1"], &listing)
			if listing.Status != 200 || len(listing.Body.Sockets) != 2 {
				t.Fatalf("sockets of user:u1: %s", out["socketsU1"])
			}
			for _, s := range listing.Body.Sockets {
				if (s.ID != ids["a1"] && s.ID != ids["a2"]) || s.UserID != "u1" || s.RestaurantID != "r1" || s.Transport != transport ||
					s.ConnectedAt == "" || len(s.Rooms) != 3 || s.Rooms[0] != s.ID || !slices.Contains(s.Rooms, "user:u1") || !slices.Contains(s.Rooms, "restaurant:r1") {
					t.Errorf("socket %+v", s)
				}
			}
			json.Unmarshal(out["socketsOrders"], &listing)
			if len(listing.Body.Sockets) != 1 || listing.Body.Sockets[0].ID != ids["c"] {
				t.Errorf("sockets of user:u1 on /orders: %s", out["socketsOrders"])
			}

			var ack struct {
				Status int
				Body   struct {
					Success   bool
					Responses []map[string]any
					TimedOut  bool
				}
			}
			json.Unmarshal(out["ackAll"], &ack)
			if ack.Status != 200 || !ack.Body.Success || ack.Body.TimedOut || len(ack.Body.Responses) != 2 {
				t.Errorf("ack, both answer: %s", out["ackAll"])
			}
			json.Unmarshal(out["ackOne"], &ack)
			if ack.Status != 200 || !ack.Body.TimedOut || len(ack.Body.Responses) != 1 || ack.Body.Responses[0]["from"] != "a1" || ack.Body.Responses[0]["v"] != 2.0 {
				t.Errorf("ack, one answers: %s", out["ackOne"])
			}
			if got := compact(out["ackBatch"]); got != compact(json.RawMessage(`{"status":200,"body":{"success":true,"results":[{"success":true},{"success":true,"responses":[{"from":"a1","v":4}],"timedOut":true}]}}`)) {
				t.Errorf("ack in a batch: %s", got)
			}

			// Logs: API calls and, at debug level, the events in and out.
			p.waitLog(map[string]string{"msg": "api call", "path": "/api/v1/internal/emit", "status": "200", "event": "order:update"})
			p.waitLog(map[string]string{"msg": "event out", "event": "order:update"})
			p.waitLog(map[string]string{"msg": "event in", "event": "join_order", "user": "u2"})
			p.waitLog(map[string]string{"msg": "disconnect", "user": "u2", "reason": "server namespace disconnect"})
		})
	}
}

func compact(raw json.RawMessage) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Sprintf("invalid %q", raw)
	}
	b, _ := json.Marshal(v)
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(b))
}
