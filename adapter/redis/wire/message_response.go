package wire

import (
	"encoding/json"
	"strconv"
)

// SocketInfo is one socket in a fetchSockets answer (type 5), as Node writes it: its id, its
// handshake (Node's handshake object without sessionStore), its rooms (its own id included) and
// its data (socket.data). A type 0 answer carries only ids.
type SocketInfo struct {
	ID        string
	Handshake json.RawMessage // a JSON object; {} when nil
	Rooms     []string
	Data      json.RawMessage // any JSON value; {} when nil
}

// Response is a message of the response channel. Answers to types 0, 1 and 5 carry no type
// (Type is TypeNone); which request they answer is known from RequestID only.
type Response struct {
	Type      RequestType
	RequestID string
	// Sockets is the answer to TypeSockets (ids only) or TypeRemoteFetch; HasSockets reports
	// that the message carried a list (Node counts an answer without one but drops it).
	Sockets    []SocketInfo
	HasSockets bool
	// Rooms is the answer to TypeAllRooms; HasRooms as HasSockets.
	Rooms    []string
	HasRooms bool
	// Data is the acknowledgement of a server-side emit (type 6) as JSON, nil when the
	// listener acknowledged without an argument.
	Data json.RawMessage
	// ClientCount is the number of clients a node sent a broadcast with acks to (type 8).
	ClientCount int
	// Ack is the first argument of one client's acknowledgement of a broadcast (type 9) as
	// Socket.IO data (JSON with placeholders), nil when the client acknowledged without one.
	Ack            json.RawMessage
	AckAttachments [][]byte
}

func appendResponseStart(dst []byte, typ RequestType, requestID string) []byte {
	dst = append(dst, '{')
	if typ != TypeNone {
		dst = append(dst, `"type":`...)
		dst = strconv.AppendInt(dst, int64(typ), 10)
		dst = append(dst, ',')
	}
	dst = append(dst, `"requestId":`...)
	return appendJSString(dst, requestID)
}

// AppendSocketsResponse appends the JSON answer to a TypeSockets request.
func AppendSocketsResponse(dst []byte, requestID string, ids []string) []byte {
	dst = appendResponseStart(dst, TypeNone, requestID)
	dst = append(dst, `,"sockets":`...)
	dst = appendJSONRooms(dst, ids)
	return append(dst, '}')
}

// AppendAllRoomsResponse appends the JSON answer to a TypeAllRooms request.
func AppendAllRoomsResponse(dst []byte, requestID string, rooms []string) []byte {
	dst = appendResponseStart(dst, TypeNone, requestID)
	dst = append(dst, `,"rooms":`...)
	dst = appendJSONRooms(dst, rooms)
	return append(dst, '}')
}

// AppendFetchResponse appends the JSON answer to a TypeRemoteFetch request. Handshake and Data
// must be valid JSON (or nil, written as {}).
func AppendFetchResponse(dst []byte, requestID string, sockets []SocketInfo) ([]byte, error) {
	n := len(dst)
	dst = appendResponseStart(dst, TypeNone, requestID)
	dst = append(dst, `,"sockets":[`...)
	for i, s := range sockets {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"id":`...)
		dst = appendJSString(dst, s.ID)
		dst = append(dst, `,"handshake":`...)
		var err error
		if dst, err = appendRawJSON(dst, s.Handshake); err != nil {
			return dst[:n], err
		}
		dst = append(dst, `,"rooms":`...)
		dst = appendJSONRooms(dst, s.Rooms)
		dst = append(dst, `,"data":`...)
		if dst, err = appendRawJSON(dst, s.Data); err != nil {
			return dst[:n], err
		}
		dst = append(dst, '}')
	}
	return append(dst, "]}"...), nil
}

func appendRawJSON(dst []byte, raw json.RawMessage) ([]byte, error) {
	if raw == nil {
		return append(dst, "{}"...), nil
	}
	if !json.Valid(raw) {
		return dst, malformed("invalid JSON in a response")
	}
	return append(dst, raw...), nil
}

// AppendLegacyResponse appends {"requestId":...}, the answer to the legacy by-socket forms of
// types 2-4.
func AppendLegacyResponse(dst []byte, requestID string) []byte {
	return append(appendResponseStart(dst, TypeNone, requestID), '}')
}

// AppendServerSideEmitResponse appends a server-side emit acknowledgement (type 6, JSON). data
// nil leaves the data key out, as JSON.stringify does for an undefined argument.
func AppendServerSideEmitResponse(dst []byte, requestID string, data json.RawMessage) ([]byte, error) {
	dst2 := appendResponseStart(dst, TypeServerSideEmit, requestID)
	if data != nil {
		if !json.Valid(data) {
			return dst, malformed("server-side emit acknowledgement is not JSON")
		}
		dst2 = append(dst2, `,"data":`...)
		dst2 = append(dst2, data...)
	}
	return append(dst2, '}'), nil
}

// AppendClientCountResponse appends the BROADCAST_CLIENT_COUNT answer (type 8, JSON) that a
// node owes every broadcast with acks it receives, zero included.
func AppendClientCountResponse(dst []byte, requestID string, count int) []byte {
	dst = appendResponseStart(dst, TypeBroadcastClientCount, requestID)
	dst = append(dst, `,"clientCount":`...)
	dst = strconv.AppendInt(dst, int64(count), 10)
	return append(dst, '}')
}

// AppendBroadcastAckResponse appends one client's acknowledgement of a broadcast with acks
// (type 9, MessagePack {type, requestId, packet}). ack is the first acknowledgement argument
// as Socket.IO data; nil leaves packet out (the client acknowledged without arguments).
func AppendBroadcastAckResponse(dst []byte, requestID string, ack json.RawMessage, attachments [][]byte) ([]byte, error) {
	m := Map{{"type", int64(TypeBroadcastAck)}, {"requestId", requestID}}
	if ack != nil {
		v, err := FromSocketIO(ack, attachments)
		if err != nil {
			return dst, err
		}
		m = append(m, Entry{"packet", v})
	}
	return Append(dst, m)
}

// DecodeResponse decodes a message of the response channel (JSON or MessagePack). A response
// without a string requestId is an error (Node ignores it).
func DecodeResponse(payload []byte) (Response, error) {
	m, err := decodeEnvelope(payload)
	if err != nil {
		return Response{}, err
	}
	r := Response{Type: TypeNone}
	id, _, err := optionalString(m, "requestId")
	if err != nil || id == "" {
		return Response{}, malformed("response without a requestId")
	}
	r.RequestID = id
	if t, ok := m.Get("type"); ok {
		if typ, ok := asInt(t); ok {
			r.Type = RequestType(typ)
		}
	}
	if sv, ok := m.Get("sockets"); ok {
		if arr, ok := sv.([]any); ok {
			r.HasSockets = true
			r.Sockets = make([]SocketInfo, 0, len(arr))
			for _, e := range arr {
				s, err := decodeSocketInfo(e)
				if err != nil {
					return Response{}, err
				}
				r.Sockets = append(r.Sockets, s)
			}
		}
	}
	if rv, ok := m.Get("rooms"); ok {
		if _, isList := rv.([]any); isList {
			r.HasRooms = true
			if r.Rooms, err = roomList(m, "rooms"); err != nil {
				return Response{}, err
			}
		}
	}
	switch r.Type {
	case TypeServerSideEmit:
		if d, ok := m.Get("data"); ok {
			if _, undef := d.(Undefined); !undef {
				if r.Data, err = ToJSON(d); err != nil {
					return Response{}, err
				}
			}
		}
	case TypeBroadcastClientCount:
		c, _ := m.Get("clientCount")
		n, ok := asInt(c)
		if !ok || n < 0 || n > 1<<31 {
			return Response{}, malformed("client count %v", c)
		}
		r.ClientCount = int(n)
	case TypeBroadcastAck:
		if p, ok := m.Get("packet"); ok {
			if _, undef := p.(Undefined); !undef {
				if r.Ack, r.AckAttachments, err = ToSocketIO(p); err != nil {
					return Response{}, err
				}
			}
		}
	}
	return r, nil
}

func decodeSocketInfo(v any) (SocketInfo, error) {
	if id, ok := v.(string); ok { // a type 0 answer: ids only
		return SocketInfo{ID: id}, nil
	}
	m, ok := v.(Map)
	if !ok {
		return SocketInfo{}, malformed("socket of a %T", v)
	}
	var s SocketInfo
	var err error
	if s.ID, _, err = optionalString(m, "id"); err != nil {
		return SocketInfo{}, err
	}
	if s.Rooms, err = roomList(m, "rooms"); err != nil {
		return SocketInfo{}, err
	}
	if h, ok := m.Get("handshake"); ok {
		if s.Handshake, err = ToJSON(h); err != nil {
			return SocketInfo{}, err
		}
	}
	if d, ok := m.Get("data"); ok {
		if _, undef := d.(Undefined); !undef {
			if s.Data, err = ToJSON(d); err != nil {
				return SocketInfo{}, err
			}
		}
	}
	return s, nil
}
