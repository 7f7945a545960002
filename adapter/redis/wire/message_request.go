package wire

import (
	"encoding/json"
	"strconv"
)

// RequestType numbers the requests and responses of the request and response channels.
type RequestType int

// The request types of @socket.io/redis-adapter (classic).
const (
	// TypeNone marks a response that carries no type field (answers to 0, 1 and 5).
	TypeNone                 RequestType = -1
	TypeSockets              RequestType = 0 // socket ids in rooms (legacy allSockets)
	TypeAllRooms             RequestType = 1 // every room of every node
	TypeRemoteJoin           RequestType = 2 // socketsJoin
	TypeRemoteLeave          RequestType = 3 // socketsLeave
	TypeRemoteDisconnect     RequestType = 4 // disconnectSockets
	TypeRemoteFetch          RequestType = 5 // fetchSockets
	TypeServerSideEmit       RequestType = 6 // serverSideEmit, with or without ack
	TypeBroadcast            RequestType = 7 // broadcast with acks
	TypeBroadcastClientCount RequestType = 8 // response: clients a node sent a type 7 to
	TypeBroadcastAck         RequestType = 9 // response: one client's acknowledgement
)

// Request is a message of the request channel. Which fields are used depends on Type; fields
// that are empty are left out of the encoding, never written as nil (Node tests several of
// them against undefined: a present requestId turns a plain server-side emit into one that
// expects an acknowledgement).
type Request struct {
	Type RequestType
	// UID is the requesting node; empty in requests of the emitter (2, 3, 4), which Node
	// applies like any other.
	UID string
	// RequestID pairs responses with their request (0, 1, 5, 7, 6 with ack, legacy 2-4).
	RequestID string
	// Rooms: for TypeSockets the rooms to list, for TypeRemoteJoin/Leave the rooms to join or
	// leave.
	Rooms []string
	// Opts select the target sockets (2, 3, 4, 5, 7); Flags are written only for type 7. A
	// type 2-4 request without Opts is the legacy by-socket form (SID, Room).
	Opts *BroadcastOptions
	// Close: TypeRemoteDisconnect closes the underlying connection too.
	Close bool
	// SID and Room are the legacy by-socket forms of types 2-4.
	SID, Room string
	// Data is the JSON array [event, args...] of TypeServerSideEmit.
	Data json.RawMessage
	// Packet is the packet of TypeBroadcast.
	Packet Packet
}

// AppendRequest appends the encoding of r as Node writes it: JSON text, except TypeBroadcast,
// which is MessagePack (it may carry binary). Keys are in Node's order: uid, requestId, type,
// then the type's own fields.
func AppendRequest(dst []byte, r Request) ([]byte, error) {
	if r.Type == TypeBroadcast {
		return appendBroadcastRequest(dst, r)
	}
	n := len(dst)
	dst = append(dst, '{')
	comma := false
	key := func(k string) {
		if comma {
			dst = append(dst, ',')
		}
		comma = true
		dst = appendJSString(dst, k)
		dst = append(dst, ':')
	}
	if r.UID != "" {
		key("uid")
		dst = appendJSString(dst, r.UID)
	}
	if r.RequestID != "" {
		key("requestId")
		dst = appendJSString(dst, r.RequestID)
	}
	key("type")
	dst = strconv.AppendInt(dst, int64(r.Type), 10)
	switch r.Type {
	case TypeSockets:
		key("rooms")
		dst = appendJSONRooms(dst, r.Rooms)
	case TypeAllRooms:
	case TypeRemoteJoin, TypeRemoteLeave, TypeRemoteDisconnect:
		if r.Opts == nil { // legacy by-socket form
			key("sid")
			dst = appendJSString(dst, r.SID)
			if r.Type == TypeRemoteDisconnect {
				key("close")
				dst = strconv.AppendBool(dst, r.Close)
			} else {
				key("room")
				dst = appendJSString(dst, r.Room)
			}
			break
		}
		key("opts")
		dst = appendJSONSelector(dst, *r.Opts)
		if r.Type == TypeRemoteDisconnect {
			key("close")
			dst = strconv.AppendBool(dst, r.Close)
		} else {
			key("rooms")
			dst = appendJSONRooms(dst, r.Rooms)
		}
	case TypeRemoteFetch:
		opts := BroadcastOptions{}
		if r.Opts != nil {
			opts = *r.Opts
		}
		key("opts")
		dst = appendJSONSelector(dst, opts)
	case TypeServerSideEmit:
		if !json.Valid(r.Data) {
			return dst[:n], malformed("server-side emit data is not JSON")
		}
		key("data")
		dst = append(dst, r.Data...)
	default:
		return dst[:n], malformed("cannot encode a request of type %d", r.Type)
	}
	return append(dst, '}'), nil
}

func appendBroadcastRequest(dst []byte, r Request) ([]byte, error) {
	packet, err := packetValue(r.Packet)
	if err != nil {
		return dst, err
	}
	var opts BroadcastOptions
	if r.Opts != nil {
		opts = *r.Opts
	}
	m := make(Map, 0, 5)
	if r.UID != "" {
		m = append(m, Entry{"uid", r.UID})
	}
	if r.RequestID != "" {
		m = append(m, Entry{"requestId", r.RequestID})
	}
	m = append(m,
		Entry{"type", int64(TypeBroadcast)},
		Entry{"packet", packet},
		Entry{"opts", Map{
			{"rooms", roomsValue(opts.Rooms)},
			{"except", roomsValue(opts.Except)},
			{"flags", flagsValue(opts.Flags)},
		}})
	return Append(dst, m)
}

func appendJSONRooms(dst []byte, rooms []string) []byte {
	dst = append(dst, '[')
	for i, r := range dedupe(rooms) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSString(dst, r)
	}
	return append(dst, ']')
}

func appendJSONSelector(dst []byte, o BroadcastOptions) []byte {
	dst = append(dst, `{"rooms":`...)
	dst = appendJSONRooms(dst, o.Rooms)
	dst = append(dst, `,"except":`...)
	dst = appendJSONRooms(dst, o.Except)
	return append(dst, '}')
}

// decodeEnvelope decodes a request or response: JSON when the first byte is '{', MessagePack
// otherwise (a MessagePack map never starts with 0x7b), as Node sniffs it. The result must be
// a map.
func decodeEnvelope(payload []byte) (Map, error) {
	var v any
	var err error
	if len(payload) > 0 && payload[0] == '{' {
		v, err = FromJSON(payload)
	} else {
		v, err = Decode(payload)
	}
	if err != nil {
		return nil, err
	}
	m, ok := v.(Map)
	if !ok {
		return nil, malformed("request or response is a %T, not a map", v)
	}
	return m, nil
}

// DecodeRequest decodes a message of the request channel (JSON or MessagePack). An unknown
// request type is not an error: the Request comes back with that Type for the caller to
// ignore, as Node does. Fields of the wrong type are errors.
func DecodeRequest(payload []byte) (Request, error) {
	m, err := decodeEnvelope(payload)
	if err != nil {
		return Request{}, err
	}
	var r Request
	t, _ := m.Get("type")
	typ, ok := asInt(t)
	if !ok {
		return Request{}, malformed("request type %v is not a number", t)
	}
	r.Type = RequestType(typ)
	if typ < int64(TypeSockets) || typ > int64(TypeBroadcastAck) {
		r.Type = TypeNone
		return r, nil
	}
	// A uid that is not a string never equals a node's uid; Node compares strictly.
	if u, ok := m.Get("uid"); ok {
		r.UID, _ = u.(string)
	}
	if r.RequestID, _, err = optionalString(m, "requestId"); err != nil {
		return Request{}, err
	}
	switch r.Type {
	case TypeSockets:
		r.Rooms, err = roomList(m, "rooms")
	case TypeRemoteJoin, TypeRemoteLeave, TypeRemoteDisconnect, TypeRemoteFetch:
		if ov, present := m.Get("opts"); present && ov != nil {
			om, ok := ov.(Map)
			if !ok {
				return Request{}, malformed("request opts are a %T, not a map", ov)
			}
			o, err := decodeOptions(om)
			if err != nil {
				return Request{}, err
			}
			r.Opts = &o
		} else if r.Type == TypeRemoteFetch {
			return Request{}, malformed("fetch request without opts")
		}
		if r.Type == TypeRemoteJoin || r.Type == TypeRemoteLeave {
			if r.Opts != nil {
				r.Rooms, err = roomList(m, "rooms")
			} else {
				r.SID, _, err = optionalString(m, "sid")
				if err == nil {
					rv, _ := m.Get("room")
					r.Room, _ = roomName(rv)
				}
			}
		}
		if r.Type == TypeRemoteDisconnect {
			c, _ := m.Get("close")
			r.Close = truthy(c)
			if r.Opts == nil {
				r.SID, _, err = optionalString(m, "sid")
			}
		}
	case TypeServerSideEmit:
		d, _ := m.Get("data")
		arr, ok := d.([]any)
		if !ok || len(arr) == 0 {
			return Request{}, malformed("server-side emit data is not a non-empty array")
		}
		r.Data, err = ToJSON(arr)
	case TypeBroadcast:
		pv, _ := m.Get("packet")
		pm, ok := pv.(Map)
		if !ok {
			return Request{}, malformed("broadcast request packet is a %T, not a map", pv)
		}
		if r.Packet, err = decodePacket(pm); err != nil {
			return Request{}, err
		}
		ov, _ := m.Get("opts")
		om, ok := ov.(Map)
		if !ok {
			return Request{}, malformed("broadcast request opts are a %T, not a map", ov)
		}
		o, err := decodeOptions(om)
		if err != nil {
			return Request{}, err
		}
		r.Opts = &o
	}
	if err != nil {
		return Request{}, err
	}
	return r, nil
}
