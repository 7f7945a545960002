package wire

import (
	"cmp"
	"encoding/json"
	"slices"
	"time"
)

// EmitterUID is the uid @socket.io/redis-emitter puts in its broadcasts and server-side emits.
const EmitterUID = "emitter"

// Socket.IO packet types that may travel in a broadcast.
const (
	PacketEvent       = 2
	PacketBinaryEvent = 5
)

// Packet is the Socket.IO packet of a broadcast: on Redis a map {type, data, nsp} whose data
// holds binary values as MessagePack bin; here the data is Socket.IO JSON text with
// placeholders, plus the attachments they point to (the form the socketio package works with).
type Packet struct {
	// Type is PacketEvent on the wire; a decoded PacketBinaryEvent is accepted too.
	Type int
	// Nsp is the namespace name; a message without one means "/".
	Nsp string
	// Data is the JSON array [event, args...] with {"_placeholder":true,"num":i} for binary.
	Data json.RawMessage
	// Attachments are the binary values of Data, in placeholder order.
	Attachments [][]byte
	// Values, when not nil, is the data as values (see Decode) and is encoded instead of
	// Data and Attachments. It can hold what Socket.IO JSON cannot, such as a Timestamp
	// (a JavaScript Date). Decoders leave it nil.
	Values []any
}

// Flags are the broadcast flags. Only the flags that are set are written; unknown flags of
// received messages are ignored.
type Flags struct {
	// Volatile: sockets whose transport cannot take the packet right now skip it.
	Volatile bool
	// Compress is the per-message-deflate choice; nil when unset (Socket.IO compresses).
	Compress *bool
	// Timeout is the acknowledgement timeout of a broadcast with acks (whole milliseconds on
	// the wire); zero when unset.
	Timeout time.Duration
	// ExpectSingleResponse is set by Node's RemoteSocket.emit.
	ExpectSingleResponse bool
}

// BroadcastOptions select the target sockets: the union of the sockets in Rooms (every socket
// of the namespace when Rooms is empty), minus every socket in one of the Except rooms.
type BroadcastOptions struct {
	Rooms  []string
	Except []string
	Flags  Flags
}

// Broadcast is the message [uid, packet, opts] published on a broadcast channel.
type Broadcast struct {
	UID    string
	Packet Packet
	Opts   BroadcastOptions
}

// AppendBroadcast appends the MessagePack encoding of b as a socket.io adapter writes it:
// [uid, {type, data, nsp}, {rooms, except, flags}]. Repeated room names are written once.
// Without Packet.Values it converts the data straight from its JSON text, and allocates
// nothing when dst has room for the message (a publisher can reuse its buffers).
func AppendBroadcast(dst []byte, b Broadcast) ([]byte, error) {
	return appendBroadcast(dst, b, false)
}

// AppendEmitterBroadcast is AppendBroadcast with the key order of @socket.io/redis-emitter:
// {rooms, flags, except}.
func AppendEmitterBroadcast(dst []byte, b Broadcast) ([]byte, error) {
	return appendBroadcast(dst, b, true)
}

func appendBroadcast(dst []byte, b Broadcast, emitterOrder bool) ([]byte, error) {
	if b.Packet.Values == nil {
		if out, ok := appendBroadcastDirect(dst, b, emitterOrder); ok {
			return out, nil
		}
	}
	return appendBroadcastValues(dst, b, emitterOrder)
}

// appendBroadcastDirect writes what appendBroadcastValues writes for a packet without Values,
// building no value (see appendSocketIOData); false when the data needs the values path.
func appendBroadcastDirect(dst []byte, b Broadcast, emitterOrder bool) ([]byte, bool) {
	out := appendString(append(dst, 0x93), b.UID)
	out = appendString(append(out, 0x83), "type")
	out = appendString(appendInt(out, PacketEvent), "data")
	out, ok := appendSocketIOData(out, b.Packet.Data, b.Packet.Attachments)
	if !ok {
		return dst, false
	}
	out = appendString(out, "nsp")
	out = appendString(out, cmp.Or(b.Packet.Nsp, "/"))
	out = appendRooms(appendString(append(out, 0x83), "rooms"), b.Opts.Rooms)
	if emitterOrder {
		out = appendFlags(appendString(out, "flags"), b.Opts.Flags)
		return appendRooms(appendString(out, "except"), b.Opts.Except), true
	}
	out = appendRooms(appendString(out, "except"), b.Opts.Except)
	return appendFlags(appendString(out, "flags"), b.Opts.Flags), true
}

// maxScannedRooms is the longest rooms list whose repeated names are found by comparing each
// with those before it (no allocation); a longer list is deduplicated into a copy.
const maxScannedRooms = 32

// appendRooms writes what Append writes for roomsValue(rooms).
func appendRooms(dst []byte, rooms []string) []byte {
	if len(rooms) > maxScannedRooms {
		rooms = dedupe(rooms)
		dst = appendArrayHeader(dst, len(rooms))
		for _, r := range rooms {
			dst = appendString(dst, r)
		}
		return dst
	}
	n := 0
	for i := range rooms {
		if !slices.Contains(rooms[:i], rooms[i]) {
			n++
		}
	}
	dst = appendArrayHeader(dst, n)
	for i, r := range rooms {
		if !slices.Contains(rooms[:i], r) {
			dst = appendString(dst, r)
		}
	}
	return dst
}

// appendFlags writes what Append writes for flagsValue(f).
func appendFlags(dst []byte, f Flags) []byte {
	n := 0
	for _, set := range []bool{f.Volatile, f.Compress != nil, f.Timeout > 0, f.ExpectSingleResponse} {
		if set {
			n++
		}
	}
	dst = appendMapHeader(dst, n)
	if f.Volatile {
		dst = append(appendString(dst, "volatile"), 0xc3)
	}
	if f.Compress != nil {
		dst = appendBool(appendString(dst, "compress"), *f.Compress)
	}
	if f.Timeout > 0 {
		dst = appendInt(appendString(dst, "timeout"), f.Timeout.Milliseconds())
	}
	if f.ExpectSingleResponse {
		dst = append(appendString(dst, "expectSingleResponse"), 0xc3)
	}
	return dst
}

// appendBroadcastValues is the encoding through values: the path of Packet.Values, and the
// reference that appendBroadcastDirect matches (it also words the errors).
func appendBroadcastValues(dst []byte, b Broadcast, emitterOrder bool) ([]byte, error) {
	packet, err := packetValue(b.Packet)
	if err != nil {
		return dst, err
	}
	opts := make(Map, 0, 3)
	opts = append(opts, Entry{"rooms", roomsValue(b.Opts.Rooms)})
	if emitterOrder {
		opts = append(opts, Entry{"flags", flagsValue(b.Opts.Flags)}, Entry{"except", roomsValue(b.Opts.Except)})
	} else {
		opts = append(opts, Entry{"except", roomsValue(b.Opts.Except)}, Entry{"flags", flagsValue(b.Opts.Flags)})
	}
	return Append(dst, []any{b.UID, packet, opts})
}

// packetValue converts a Packet to the map Node publishes: {type: 2, data, nsp}.
func packetValue(p Packet) (Map, error) {
	var data any = p.Values
	if p.Values == nil {
		var err error
		if data, err = FromSocketIO(p.Data, p.Attachments); err != nil {
			return nil, err
		}
		if _, ok := data.([]any); !ok {
			return nil, malformed("packet data is not a JSON array")
		}
	}
	nsp := p.Nsp
	if nsp == "" {
		nsp = "/"
	}
	return Map{{"type", int64(PacketEvent)}, {"data", data}, {"nsp", nsp}}, nil
}

func roomsValue(rooms []string) []string {
	if rooms == nil {
		return []string{} // [] like Node, never nil: nil rooms would mean everyone
	}
	return dedupe(rooms)
}

func flagsValue(f Flags) Map {
	m := Map{}
	if f.Volatile {
		m = append(m, Entry{"volatile", true})
	}
	if f.Compress != nil {
		m = append(m, Entry{"compress", *f.Compress})
	}
	if f.Timeout > 0 {
		m = append(m, Entry{"timeout", f.Timeout.Milliseconds()})
	}
	if f.ExpectSingleResponse {
		m = append(m, Entry{"expectSingleResponse", true})
	}
	return m
}

// DecodeBroadcast decodes a message of a broadcast channel. It accepts what Node accepts and
// turns what would crash or confuse a Node node into an error: a payload that is not a
// MessagePack array of at least [uid, packet, opts], a packet that is not a map or whose type
// is not an event, data that is not a non-empty array, rooms or except that are not lists.
// A non-string uid decodes as "" (it can never be a node's own uid).
func DecodeBroadcast(payload []byte) (Broadcast, error) {
	v, err := Decode(payload)
	if err != nil {
		return Broadcast{}, err
	}
	arr, ok := v.([]any)
	if !ok || len(arr) < 3 {
		return Broadcast{}, malformed("broadcast is not an array [uid, packet, opts]")
	}
	var b Broadcast
	b.UID, _ = arr[0].(string)
	pm, ok := arr[1].(Map)
	if !ok {
		return Broadcast{}, malformed("broadcast packet is a %T, not a map", arr[1])
	}
	if b.Packet, err = decodePacket(pm); err != nil {
		return Broadcast{}, err
	}
	om, ok := arr[2].(Map)
	if !ok {
		return Broadcast{}, malformed("broadcast options are a %T, not a map", arr[2])
	}
	if b.Opts, err = decodeOptions(om); err != nil {
		return Broadcast{}, err
	}
	return b, nil
}

func decodePacket(m Map) (Packet, error) {
	var p Packet
	t, _ := m.Get("type")
	typ, ok := asInt(t)
	if !ok || (typ != PacketEvent && typ != PacketBinaryEvent) {
		return Packet{}, malformed("packet type %v is not an event", t)
	}
	p.Type = int(typ)
	nsp, present, err := optionalString(m, "nsp")
	if err != nil {
		return Packet{}, err
	}
	p.Nsp = "/"
	if present {
		p.Nsp = nsp
	}
	d, _ := m.Get("data")
	arr, ok := d.([]any)
	if !ok || len(arr) == 0 {
		return Packet{}, malformed("packet data is not a non-empty array")
	}
	if p.Data, p.Attachments, err = ToSocketIO(arr); err != nil {
		return Packet{}, err
	}
	return p, nil
}

func decodeOptions(m Map) (BroadcastOptions, error) {
	var o BroadcastOptions
	var err error
	if o.Rooms, err = roomList(m, "rooms"); err != nil {
		return o, err
	}
	if o.Except, err = roomList(m, "except"); err != nil {
		return o, err
	}
	fv, _ := m.Get("flags")
	if fm, ok := fv.(Map); ok {
		o.Flags = decodeFlags(fm)
	}
	return o, nil
}

func decodeFlags(m Map) Flags {
	var f Flags
	for _, e := range m {
		switch e.Key {
		case "volatile":
			f.Volatile = truthy(e.Value)
		case "compress":
			if _, undef := e.Value.(Undefined); !undef {
				c := truthy(e.Value)
				f.Compress = &c
			}
		case "timeout":
			if ms, ok := asNumber(e.Value); ok && ms > 0 && ms < 1e12 {
				f.Timeout = time.Duration(ms * float64(time.Millisecond))
			}
		case "expectSingleResponse":
			f.ExpectSingleResponse = truthy(e.Value)
		}
	}
	return f
}

// PeekBroadcast reads the uid and the options of a broadcast message and passes over its
// packet without building it, so that a node can drop a broadcast for rooms it does not hold
// (or its own) for a fraction of the cost of DecodeBroadcast.
//
// It refuses what DecodeBroadcast refuses about the message's MessagePack (every value is
// checked as Decode checks it, trailing bytes included), its shape [uid, packet, opts] and its
// options, and returns the same uid and options when DecodeBroadcast succeeds. It does not
// look inside the packet beyond checking that it is a map: a packet whose type, namespace or
// data DecodeBroadcast would refuse passes here.
func PeekBroadcast(payload []byte) (uid string, opts BroadcastOptions, err error) {
	d := decoder{b: payload}
	n, u, err := d.broadcastHead()
	if err != nil {
		return "", opts, err
	}
	uid, _ = u.(string)
	if !d.nextIsMap() {
		return "", opts, malformed("broadcast packet is not a map")
	}
	if err := d.skip(); err != nil {
		return "", opts, err
	}
	o, err := d.value()
	if err != nil {
		return "", opts, err
	}
	for range n - 3 {
		if err := d.skip(); err != nil {
			return "", opts, err
		}
	}
	if d.off != len(payload) {
		return "", opts, malformed("%d trailing bytes", len(payload)-d.off)
	}
	om, ok := o.(Map)
	if !ok {
		return "", opts, malformed("broadcast options are a %T, not a map", o)
	}
	if opts, err = decodeOptions(om); err != nil {
		return "", BroadcastOptions{}, err
	}
	return uid, opts, nil
}

// BroadcastUID reads only the uid of a broadcast, the first element of [uid, packet, opts]:
// ok is false when the payload does not start that way or the uid is not a string. A node
// receives its own publications back; this lets it drop them for the price of a string
// comparison. A true result says nothing about the rest of the message.
func BroadcastUID(payload []byte) (uid string, ok bool) {
	d := decoder{b: payload}
	_, u, err := d.broadcastHead()
	uid, ok = u.(string)
	return uid, ok && err == nil
}

// broadcastHead reads the header of the array [uid, packet, opts, ...] and its uid, and leaves
// d at the packet.
func (d *decoder) broadcastHead() (n int, uid any, err error) {
	n, isArray, err := d.arrayHeader()
	if err != nil {
		return 0, nil, err
	}
	if !isArray || n < 3 {
		return 0, nil, malformed("broadcast is not an array [uid, packet, opts]")
	}
	uid, err = d.value()
	return n, uid, err
}
