package engineio

import (
	"encoding/base64"
	"sync"

	"github.com/tomato-code/realtime/engineio/packet"
)

// Message is an Engine.IO packet ready to be sent: immutable and shareable by any number of
// sessions. Its websocket frame (header and payload) and its polling encoding are each built
// once, lazily, the first time a session of that transport needs them, and then shared by all
// sessions.
type Message struct {
	typ    packet.Type
	binary bool
	data   []byte

	wsOnce   sync.Once
	ws       []byte // the whole unmasked websocket frame
	pollOnce sync.Once
	poll     []byte // the polling record, without separator
}

// NewTextMessage returns a text message packet carrying data. data excludes the packet type
// "4", which the encoding adds. The message keeps data: do not modify it afterwards.
func NewTextMessage(data []byte) *Message {
	return &Message{typ: packet.Message, data: data}
}

// NewBinaryMessage returns a binary message packet carrying data. The message keeps data: do
// not modify it afterwards.
func NewBinaryMessage(data []byte) *Message {
	return &Message{typ: packet.Message, binary: true, data: data}
}

// newControl returns a packet of another type than message, e.g. ping or open.
func newControl(t packet.Type, data []byte) *Message {
	return &Message{typ: t, data: data}
}

// Shared control packets: like any Message, their encodings are built once for all sessions.
var (
	msgPing  = newControl(packet.Ping, nil)
	msgNoop  = newControl(packet.Noop, nil)
	msgClose = newControl(packet.Close, nil)
	msgProbe = newControl(packet.Pong, []byte("probe"))
)

// Binary reports whether m is a binary message.
func (m *Message) Binary() bool { return m.binary }

// Data returns the message's data, without the packet type. The caller must not modify it.
func (m *Message) Data() []byte { return m.data }

// size is what m counts against a session's write queue bound: its larger encoding.
func (m *Message) size() int {
	if m.binary {
		return 10 + base64.StdEncoding.EncodedLen(len(m.data))
	}
	return 11 + len(m.data)
}

// wsFrame returns the websocket frame of m, building it on first use.
func (m *Message) wsFrame() []byte {
	m.wsOnce.Do(func() {
		n := len(m.data)
		if !m.binary {
			n++ // the packet type
		}
		m.ws = appendPacketFrame(make([]byte, 0, frameHeaderLen(n)+n), m.typ, m.data, m.binary)
	})
	return m.ws
}

// pollRecord returns the polling encoding of m (no separator), building it on first use.
func (m *Message) pollRecord() []byte {
	m.pollOnce.Do(func() {
		p := packet.Packet{Type: m.typ, Data: m.data, Binary: m.binary}
		m.poll = packet.AppendPacket(make([]byte, 0, packet.EncodedLen(p)), p)
	})
	return m.poll
}
