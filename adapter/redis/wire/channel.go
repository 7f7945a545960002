package wire

import "strings"

// DefaultKey is the channel prefix of @socket.io/redis-adapter and @socket.io/redis-emitter.
const DefaultKey = "socket.io"

// Channels are the Redis channel names of one namespace under one key prefix. The namespace
// name is embedded literally, as Node does.
type Channels struct {
	// Broadcast is "<key>#<nsp>#": broadcasts to no room (everyone) or several rooms.
	Broadcast string
	// Request is "<key>-request#<nsp>#": requests between nodes. PUBSUB NUMSUB of this
	// channel is the server count, so each node holds exactly one subscription to it.
	Request string
	// Response is "<key>-response#<nsp>#": the shared response channel.
	Response string
}

// NewChannels returns the channels of namespace nsp under key (DefaultKey when empty).
func NewChannels(key, nsp string) Channels {
	if key == "" {
		key = DefaultKey
	}
	return Channels{
		Broadcast: key + "#" + nsp + "#",
		Request:   key + "-request#" + nsp + "#",
		Response:  key + "-response#" + nsp + "#",
	}
}

// Room returns "<key>#<nsp>#<room>#", the channel of broadcasts to exactly that one room.
func (c Channels) Room(room string) string {
	return c.Broadcast + room + "#"
}

// ForRooms returns the channel a broadcast to rooms is published on: the room's channel when
// there is exactly one distinct room, the namespace channel otherwise.
func (c Channels) ForRooms(rooms []string) string {
	if len(rooms) == 0 {
		return c.Broadcast
	}
	for _, r := range rooms[1:] {
		if r != rooms[0] {
			return c.Broadcast
		}
	}
	return c.Room(rooms[0])
}

// SpecificResponse returns "<key>-response#<nsp>#<uid>#", the response channel of one node
// (used by responders configured with publishOnSpecificResponseChannel).
func (c Channels) SpecificResponse(uid string) string {
	return c.Response + uid + "#"
}

// Pattern returns the glob pattern that matches every broadcast channel of the namespace, as
// Node's PSUBSCRIBE uses it, with glob metacharacters of the prefix escaped.
func (c Channels) Pattern() string {
	return globEscape(c.Broadcast) + "*"
}

// RoomsOfLen returns the glob pattern that matches the channel of every room whose name is n
// bytes long ("?" matches one byte in Redis).
func (c Channels) RoomsOfLen(n int) string {
	return globEscape(c.Broadcast) + strings.Repeat("?", n) + "#"
}

// RoomOf returns the room part of a broadcast channel: "" for the namespace channel, the room
// for a room channel, and false when channel is not a broadcast channel of this namespace. Like
// Node, it takes the text between the prefix and the final character.
func (c Channels) RoomOf(channel string) (string, bool) {
	if !strings.HasPrefix(channel, c.Broadcast) {
		return "", false
	}
	rest := channel[len(c.Broadcast):]
	if rest == "" {
		return "", true
	}
	return rest[:len(rest)-1], true
}

func globEscape(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
