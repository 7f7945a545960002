package parser

import "strconv"

// AppendText appends the text part of p to dst: what travels in the packet's Engine.IO message,
// without the Engine.IO type "4". The type written follows the attachments: an Event or Ack with
// attachments is written as BinaryEvent or BinaryAck with their count, a binary type without
// attachments as its plain form. p.Data is written as it is; the caller guarantees it is valid
// JSON whose placeholders match p.Attachments.
func AppendText(dst []byte, p *Packet) []byte {
	t := p.Type
	n := len(p.Attachments)
	switch {
	case n > 0 && t == Event:
		t = BinaryEvent
	case n > 0 && t == Ack:
		t = BinaryAck
	case n == 0 && t == BinaryEvent:
		t = Event
	case n == 0 && t == BinaryAck:
		t = Ack
	}
	dst = append(dst, '0'+byte(t))
	if t == BinaryEvent || t == BinaryAck {
		dst = strconv.AppendInt(dst, int64(n), 10)
		dst = append(dst, '-')
	}
	if p.Namespace != "" && p.Namespace != "/" {
		dst = append(dst, p.Namespace...)
		dst = append(dst, ',')
	}
	if p.ID >= 0 {
		dst = strconv.AppendInt(dst, p.ID, 10)
	}
	return append(dst, p.Data...)
}

// TextLen returns the number of bytes AppendText appends for p, to size a buffer once.
func TextLen(p *Packet) int {
	n := 1 + len(p.Data)
	if a := len(p.Attachments); a > 0 {
		n += decimalLen(int64(a)) + 1
	}
	if p.Namespace != "" && p.Namespace != "/" {
		n += len(p.Namespace) + 1
	}
	if p.ID >= 0 {
		n += decimalLen(p.ID)
	}
	return n
}

func decimalLen(v int64) int {
	n := 1
	for v >= 10 {
		v /= 10
		n++
	}
	return n
}

// Encode returns the messages that carry p: the text part, then the attachments, each to be sent
// as one binary Engine.IO message in that order.
func Encode(p *Packet) (text []byte, attachments [][]byte) {
	return AppendText(make([]byte, 0, TextLen(p)), p), p.Attachments
}
