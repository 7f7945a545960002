package resp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Limits of what a Subscriber reads.
const (
	// ReadBufferSize is the read buffer a Subscriber keeps: a message up to about this size
	// is parsed where it was read.
	ReadBufferSize = 32 << 10
	// MaxBulkLen bounds a bulk string (a channel, a pattern, a payload), as Redis's default
	// proto-max-bulk-len bounds what it accepts: a longer one is a protocol error.
	MaxBulkLen = 512 << 20
	// maxLine bounds a line (a length, a count, a status or an error reply).
	maxLine = 64 << 10
)

// Kind says what a received message is.
type Kind uint8

// The kinds of messages Receive returns.
const (
	_ Kind = iota
	// KindMessage is a message published on a subscribed channel.
	KindMessage
	// KindPMessage is a message published on a channel that matches a subscribed pattern.
	KindPMessage
	// KindSubscribe confirms a subscription to a channel.
	KindSubscribe
	// KindUnsubscribe confirms the end of a subscription to a channel.
	KindUnsubscribe
	// KindPSubscribe confirms a subscription to a pattern.
	KindPSubscribe
	// KindPUnsubscribe confirms the end of a subscription to a pattern.
	KindPUnsubscribe
	// KindPong answers Ping.
	KindPong
	// kindStatus is a status reply other than PONG (+OK): the handshake's answers.
	kindStatus
)

// kindNames are the kinds as Redis names them in its messages, up to KindPong.
var kindNames = [...]string{"", "message", "pmessage", "subscribe", "unsubscribe", "psubscribe",
	"punsubscribe", "pong", "status"}

// String returns the kind's name as Redis writes it.
func (k Kind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Message is a message received from Redis. Its byte slices are views of the Subscriber's
// buffer, valid until the next Receive: copy what must last longer.
type Message struct {
	Kind Kind
	// Pattern is the pattern a KindPMessage matched; nil for other kinds.
	Pattern []byte
	// Channel is the channel of a message, or the channel or pattern that a (un)subscription
	// confirms (nil when an UNSUBSCRIBE or PUNSUBSCRIBE without names found none).
	Channel []byte
	// Payload is a message's payload; for KindPong, PING's argument (empty).
	Payload []byte
	// Count is, for a (un)subscription, how many channels and patterns the connection is
	// subscribed to after it.
	Count int
}

// Error is an error reply of Redis, such as "NOPERM ..." to a SUBSCRIBE that the user's ACL
// denies. It took the place of the command's answer: the connection is still in step.
type Error struct {
	// Text is the reply without its "-", for example "ERR unknown command".
	Text string
}

func (e *Error) Error() string { return "redis: " + e.Text }

// ErrProtocol is wrapped by the errors of a stream that is not RESP2 or not what a subscriber
// is sent. The connection is unusable after it: every later Receive returns it.
var ErrProtocol = errors.New("resp: protocol error")

func protocolError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrProtocol}, args...)...)
}

// Receive returns the next message, waiting for it until deadline (none if zero). A timeout
// is a net.Error whose Timeout is true, after which Receive may be called again: what was
// read of a message so far is kept. An error reply is returned as *Error, and the connection
// is still usable. Any other error ends it: the same error is returned from then on.
//
// Receive must not be called from several goroutines at once.
func (s *Subscriber) Receive(deadline time.Time) (Message, error) {
	m, err := s.next(deadline)
	if err == nil && m.Kind == kindStatus {
		s.err = protocolError("unexpected status reply %q", m.Payload)
		return Message{}, s.err
	}
	return m, err
}

// next returns the next reply, a status among them.
func (s *Subscriber) next(deadline time.Time) (Message, error) {
	if s.err != nil {
		return Message{}, s.err
	}
	s.shrink()
	for {
		var m Message
		n, need, err := parse(s.buf[s.r:s.w], &m)
		if n > 0 {
			s.r += n
			if err != nil { // an error reply
				return Message{}, err
			}
			return m, nil
		}
		if err == nil {
			if err = s.fill(need, deadline); err == nil {
				continue
			}
			if isTimeout(err) {
				return Message{}, err
			}
		}
		s.err = err
		return Message{}, err
	}
}

// fill reads from the connection once, after making room for need bytes of unparsed data,
// need being what parse asked for.
func (s *Subscriber) fill(need int, deadline time.Time) error {
	if s.r > 0 {
		s.w = copy(s.buf, s.buf[s.r:s.w])
		s.r = 0
	}
	if s.w == len(s.buf) {
		// The buffer holds the start of a message and no more, so need > len(s.buf). Grow in
		// steps, by doubling: a length that announces more bytes than will come costs only
		// what came, twice at most.
		grown := make([]byte, min(need, 2*len(s.buf)))
		s.w = copy(grown, s.buf[:s.w])
		s.buf = grown
	}
	if !deadline.Equal(s.deadline) {
		if err := s.conn.SetReadDeadline(deadline); err != nil {
			return err
		}
		s.deadline = deadline
	}
	n, err := s.conn.Read(s.buf[s.w:])
	s.w += n
	switch {
	case n > 0:
		return nil // an error comes again with the next read
	case err == nil:
		return io.ErrNoProgress
	}
	return err
}

// shrink gives back a buffer grown for a large message once that message is received.
func (s *Subscriber) shrink() {
	if s.r == s.w {
		s.r, s.w = 0, 0
	}
	if len(s.buf) > len(s.small) && s.w-s.r <= len(s.small) {
		s.w = copy(s.small, s.buf[s.r:s.w])
		s.r = 0
		s.buf = s.small
	}
}

// element is one element of an array reply: a bulk string (nil when null) or an integer.
type element struct {
	b     []byte
	num   int64
	isNum bool
}

// parse reads the reply at the start of b into m and returns its length. While b holds only
// the beginning of a reply, it returns 0 and need, how long b may have to grow for parse to get
// further: always more than len(b), exact when a bulk string is incomplete, and the longest a
// line may be when a line is. An error reply comes as *Error, with its length; any
// other error means that b is not RESP2, or not a reply that a subscriber is sent.
func parse(b []byte, m *Message) (n, need int, err error) {
	line, pos, err := readLine(b, 0)
	if pos == 0 {
		return 0, maxLine + 2, err
	}
	switch line[0] {
	case '+':
		m.Kind, m.Payload = kindStatus, line[1:]
		if string(line[1:]) == "PONG" { // PING outside subscribed mode
			m.Kind, m.Payload = KindPong, nil
		}
		return pos, 0, nil
	case '-':
		return pos, 0, &Error{Text: string(line[1:])}
	case '*':
	default:
		return 0, 0, protocolError("unexpected reply type %q", line[0])
	}
	count, ok := parseInt(line[1:])
	if !ok || count < 2 || count > 4 {
		return 0, 0, protocolError("unexpected array length %q", line[1:])
	}
	var el [4]element
	for i := range count {
		start := pos
		if line, pos, err = readLine(b, pos); line == nil {
			return 0, start + maxLine + 2, err
		}
		v, ok := parseInt(line[1:])
		switch {
		case !ok:
			return 0, 0, protocolError("bad number %q", line[1:])
		case line[0] == ':':
			el[i] = element{num: v, isNum: true}
		case line[0] != '$':
			return 0, 0, protocolError("unexpected element type %q", line[0])
		case v == -1: // null
		case v < 0 || v > MaxBulkLen:
			return 0, 0, protocolError("bulk length %d out of range", v)
		default:
			end := pos + int(v)
			if len(b) < end+2 {
				return 0, end + 2, nil
			}
			if b[end] != '\r' || b[end+1] != '\n' {
				return 0, 0, protocolError("bulk string not ended by CRLF")
			}
			el[i].b = b[pos:end:end]
			pos = end + 2
		}
	}
	if err := classify(el[:count], m); err != nil {
		return 0, 0, err
	}
	return pos, 0, nil
}

// arrayLen is the number of elements of each kind of message.
var arrayLen = [...]int{KindMessage: 3, KindPMessage: 4, KindSubscribe: 3, KindUnsubscribe: 3,
	KindPSubscribe: 3, KindPUnsubscribe: 3, KindPong: 2}

// classify reads an array reply as the Pub/Sub message it must be.
func classify(el []element, m *Message) error {
	name := el[0].b
	kind := Kind(0)
	for k := KindMessage; k <= KindPong; k++ {
		if string(name) == kindNames[k] && name != nil {
			kind = k
		}
	}
	ok := kind != 0 && len(el) == arrayLen[kind]
	if ok {
		// Which elements are bulk strings, which may be null, which is a count.
		switch kind {
		case KindMessage:
			ok = el[1].b != nil && el[2].b != nil
			m.Channel, m.Payload = el[1].b, el[2].b
		case KindPMessage:
			ok = el[1].b != nil && el[2].b != nil && el[3].b != nil
			m.Pattern, m.Channel, m.Payload = el[1].b, el[2].b, el[3].b
		case KindPong:
			ok = el[1].b != nil
			m.Payload = el[1].b
		default: // a (un)subscription
			ok = !el[1].isNum && el[2].isNum
			m.Channel, m.Count = el[1].b, int(el[2].num)
		}
	}
	if !ok {
		return protocolError("unexpected %d-element message %.40q", len(el), name)
	}
	m.Kind = kind
	return nil
}

// readLine returns the line that starts at b[i], without its CRLF, and where the next one
// starts; next is 0 while the line is incomplete.
func readLine(b []byte, i int) (line []byte, next int, err error) {
	j := bytes.IndexByte(b[i:], '\n')
	if j < 0 {
		if len(b)-i > maxLine+1 { // the line and its CR
			return nil, 0, protocolError("line longer than %d bytes", maxLine)
		}
		return nil, 0, nil
	}
	if j < 2 || b[i+j-1] != '\r' || j-1 > maxLine {
		return nil, 0, protocolError("bad line %.40q", b[i:i+j+1])
	}
	return b[i : i+j-1], i + j + 1, nil
}

// parseInt reads a decimal integer of at most 18 digits, which cannot overflow.
func parseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
