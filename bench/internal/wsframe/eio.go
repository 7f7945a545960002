package wsframe

import "bytes"

// Kind classifies the Engine.IO packet carried by one text frame, and for message packets the
// Socket.IO packet inside it (main namespace only: the load tool uses no other).
type Kind uint8

// Kinds of packets the load client reacts to.
const (
	KindOther        Kind = iota // anything the load client ignores
	KindOpen                     // Engine.IO open: 0{"sid":...}
	KindClose                    // Engine.IO close: 1
	KindPing                     // Engine.IO ping: 2, answered with a pong
	KindConnect                  // Socket.IO CONNECT accepted: 40{"sid":...}
	KindConnectError             // Socket.IO CONNECT_ERROR: 44{"message":...}
	KindDisconnect               // Socket.IO DISCONNECT from the server: 41
	KindEvent                    // Socket.IO EVENT: 42[...]
)

// Classify returns the kind of the Engine.IO text packet p.
func Classify(p []byte) Kind {
	if len(p) == 0 {
		return KindOther
	}
	switch p[0] {
	case '0':
		return KindOpen
	case '1':
		return KindClose
	case '2':
		return KindPing
	case '4':
		if len(p) < 2 {
			return KindOther
		}
		switch p[1] {
		case '0':
			return KindConnect
		case '1':
			return KindDisconnect
		case '2':
			return KindEvent
		case '4':
			return KindConnectError
		}
	}
	return KindOther
}

// Keys of the stamp the load tool puts in every payload it emits: {"bp":<phase>,"bt":<sent>},
// phase a small integer and sent the send time in microseconds since the Unix epoch. Both fit a
// JavaScript number exactly, so a server that parses and re-serialises the payload keeps them.
var (
	phaseKey = []byte(`"bp":`)
	timeKey  = []byte(`"bt":`)
)

// Stamp finds the stamp in the Socket.IO event packet p. Each key is looked up on its own so
// that a server that reorders object keys still works.
func Stamp(p []byte) (phase int, sentMicros int64, ok bool) {
	i := bytes.Index(p, timeKey)
	if i < 0 {
		return 0, 0, false
	}
	sentMicros, ok = leadingInt(p[i+len(timeKey):])
	if !ok {
		return 0, 0, false
	}
	j := bytes.Index(p, phaseKey)
	if j < 0 {
		return 0, 0, false
	}
	ph, ok := leadingInt(p[j+len(phaseKey):])
	if !ok || ph > 1<<20 {
		return 0, 0, false
	}
	return int(ph), sentMicros, true
}

// AppendStamp appends the stamp object's members (without braces) for phase and sent.
func AppendStamp(dst []byte, phase int, sentMicros int64) []byte {
	dst = append(dst, phaseKey...)
	dst = appendInt(dst, int64(phase))
	dst = append(dst, ',')
	dst = append(dst, timeKey...)
	return appendInt(dst, sentMicros)
}

// leadingInt parses the non-negative decimal integer at the start of b, after optional spaces.
// It accepts at most 18 digits, so it cannot overflow.
func leadingInt(b []byte) (int64, bool) {
	i := 0
	for i < len(b) && b[i] == ' ' {
		i++
	}
	var v int64
	start := i
	for ; i < len(b) && i-start < 18; i++ {
		c := b[i]
		if c < '0' || c > '9' {
			break
		}
		v = v*10 + int64(c-'0')
	}
	if i == start {
		return 0, false
	}
	if i < len(b) && b[i] >= '0' && b[i] <= '9' {
		return 0, false // more than 18 digits: not a stamp of ours
	}
	return v, true
}

func appendInt(dst []byte, v int64) []byte {
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(dst, tmp[i:]...)
}
