package parser

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// maxIDDigits bounds an ack id to what fits an int64 without overflow.
const maxIDDigits = 18

// Decoder turns Engine.IO messages into packets. A binary packet arrives as a text header
// followed by its attachments in separate binary messages: the decoder keeps the header until the
// last attachment arrives. Use one Decoder per connection, from one goroutine at a time.
type Decoder struct {
	// MaxAttachments is the largest attachment count a packet may announce; zero means
	// DefaultMaxAttachments.
	MaxAttachments int

	pending *Packet
	want    int
	phs     []Placeholder // scratch for placeholder validation
}

// Waiting reports whether the decoder holds a packet whose attachments have not all arrived.
func (d *Decoder) Waiting() bool { return d.pending != nil }

// Reset drops a packet waiting for attachments.
func (d *Decoder) Reset() { d.pending, d.want = nil, 0 }

// Decode takes the data of one Engine.IO message, binary or text. It returns the packet once
// complete, nil while attachments are still awaited, or an error wrapping ErrInvalid when the
// peer broke the protocol (the decoder is then reset; the connection should be closed). The
// packet's Data and Attachments alias data: the caller must not reuse the buffers it passes.
func (d *Decoder) Decode(data []byte, binary bool) (*Packet, error) {
	if d.pending != nil {
		if !binary {
			d.Reset()
			return nil, ErrUnexpectedText
		}
		p := d.pending
		p.Attachments = append(p.Attachments, data)
		if len(p.Attachments) < d.want {
			return nil, nil
		}
		d.Reset()
		return p, nil
	}
	if binary {
		return nil, ErrUnexpectedBinary
	}
	max := d.MaxAttachments
	if max <= 0 {
		max = DefaultMaxAttachments
	}
	p, n, err := decodeText(data, max, &d.phs)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		p.Attachments = make([][]byte, 0, n)
		d.pending, d.want = p, n
		return nil, nil
	}
	return p, nil
}

// DecodeText decodes a packet that carries no attachments, such as one read from a log or sent
// by a test. A binary packet header gives ErrBadAttachments.
func DecodeText(data []byte) (*Packet, error) {
	var phs []Placeholder
	p, n, err := decodeText(data, DefaultMaxAttachments, &phs)
	if err == nil && n > 0 {
		err = ErrBadAttachments
	}
	return p, err
}

// decodeText parses a packet's text part and returns it with the number of attachments to wait
// for. The rules are the reference parser's, without its accidents (a space is not an ack id
// digit, "1e1" is not an attachment count).
func decodeText(s []byte, maxAttachments int, phs *[]Placeholder) (*Packet, int, error) {
	if len(s) == 0 {
		return nil, 0, ErrEmpty
	}
	p := &Packet{Type: Type(s[0] - '0'), Namespace: "/", ID: NoID}
	if s[0] < '0' || !p.Type.Valid() {
		return nil, 0, ErrUnknownType
	}
	i := 1
	n := 0
	if p.Type == BinaryEvent || p.Type == BinaryAck {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			n = n*10 + int(s[i]-'0')
			i++
			if n > maxAttachments {
				return nil, 0, ErrTooManyAttachments
			}
		}
		if i == start || i >= len(s) || s[i] != '-' || n < 1 {
			return nil, 0, ErrBadAttachments
		}
		i++
	}
	if i < len(s) && s[i] == '/' {
		start := i
		for i < len(s) && s[i] != ',' {
			i++
		}
		p.Namespace = string(s[start:i])
		if i < len(s) {
			i++ // the comma
		}
	}
	if i < len(s) && s[i] >= '0' && s[i] <= '9' {
		start := i
		var id int64
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if i-start >= maxIDDigits {
				return nil, 0, ErrBadID
			}
			id = id*10 + int64(s[i]-'0')
			i++
		}
		p.ID = id
	}
	if i < len(s) {
		p.Data = json.RawMessage(s[i:])
		if !utf8.Valid(p.Data) {
			return nil, 0, ErrBadUTF8
		}
	}
	if err := checkPayload(p, n, phs); err != nil {
		return nil, 0, err
	}
	return p, n, nil
}

// checkPayload applies the per-type payload rules and, for binary packets, checks that every
// placeholder names one of the n announced attachments.
func checkPayload(p *Packet, n int, phs *[]Placeholder) error {
	if p.Data == nil {
		switch p.Type {
		case Connect, Disconnect, Ack:
			// A CONNECT without auth is the common case; an ACK without payload is an
			// acknowledgement without arguments (the reference parser accepts both).
			return nil
		}
		return ErrBadPayload
	}
	*phs = (*phs)[:0]
	sc := scanner{b: p.Data}
	if n > 0 {
		sc.phs = phs
	}
	k, err := sc.whole()
	if err != nil {
		return err
	}
	for _, ph := range *phs {
		if ph.Num < 0 || ph.Num >= n {
			return ErrBadPlaceholder
		}
	}
	switch p.Type {
	case Connect:
		if k != kindObject {
			return ErrBadPayload
		}
	case Disconnect:
		return ErrBadPayload
	case ConnectError:
		if k != kindObject && k != kindString {
			return ErrBadPayload
		}
	case Event, BinaryEvent:
		if k != kindArray {
			return ErrBadPayload
		}
		fk, first := firstElement(p.Data)
		switch fk {
		case kindNumber:
		case kindString:
			if reservedLiteral(first) {
				return ErrReservedEvent
			}
		default:
			return ErrBadPayload
		}
	case Ack, BinaryAck:
		if k != kindArray {
			return ErrBadPayload
		}
	}
	return nil
}

// unquote returns the text of a valid JSON string literal.
func unquote(lit []byte) (string, error) {
	for _, c := range lit[1 : len(lit)-1] {
		if c == '\\' {
			var s string
			err := json.Unmarshal(lit, &s)
			return s, err
		}
	}
	return string(lit[1 : len(lit)-1]), nil
}

// reservedLiteral reports whether a JSON string literal spells a reserved event name.
func reservedLiteral(lit []byte) bool {
	if bytes.IndexByte(lit, '\\') < 0 {
		return IsReserved(string(lit[1 : len(lit)-1])) // compared without allocating
	}
	name, err := unquote(lit)
	return err == nil && IsReserved(name)
}

// EventName returns the event name of an EVENT payload that Decode accepted: the text of its
// first element when that is a string, or the number as written when it is a number. It reads
// only the first element.
func EventName(data []byte) (string, error) {
	switch k, first := firstElement(data); k {
	case kindString:
		return unquote(first)
	case kindNumber:
		return string(first), nil
	}
	return "", ErrBadPayload
}
