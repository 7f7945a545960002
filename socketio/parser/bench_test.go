package parser

import "testing"

func BenchmarkDecodeEvent(b *testing.B) {
	msg := []byte(`2["order:update",{"id":"5f1c0e","status":"delivered","items":[{"sku":"a1","qty":2},{"sku":"b2","qty":1}],"total":12.5}]`)
	var d Decoder
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Decode(msg, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBinaryEvent(b *testing.B) {
	header := []byte(`52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	att := make([]byte, 1024)
	var d Decoder
	b.ReportAllocs()
	for b.Loop() {
		d.Decode(header, false)
		d.Decode(att, true)
		if p, err := d.Decode(att, true); p == nil || err != nil {
			b.Fatal(p, err)
		}
	}
}

func BenchmarkAppendText(b *testing.B) {
	p := &Packet{Type: Event, Namespace: "/orders", ID: NoID, Data: []byte(`["order:update",{"id":"5f1c0e","status":"delivered"}]`)}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendText(buf[:0], p)
	}
}
