package service

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/tomato-code/realtime/socketio"
)

// joinAwaitingAdapter is a memory adapter that says it confirms joins, as the Redis adapter
// does.
type joinAwaitingAdapter struct{ *socketio.MemoryAdapter }

func (joinAwaitingAdapter) JoinsPending(*socketio.Socket) bool                  { return true }
func (joinAwaitingAdapter) AwaitJoined(context.Context, *socketio.Socket) error { return nil }

type plainNamespace struct{}

func (plainNamespace) Name() string     { return "/" }
func (plainNamespace) NextAckID() int64 { return 0 }
func (plainNamespace) ServerSideEmit(json.RawMessage, [][]byte, func(socketio.Args)) bool {
	return false
}

// The counting wrapper keeps an adapter's socketio.JoinAwaiter visible to the socketio server
// (REDIS_SUBSCRIPTION=rooms relies on it) and adds none to an adapter without.
func TestInstrumentKeepsJoinAwaiter(t *testing.T) {
	s := &Service{}
	awaiting := s.instrument(func(ns socketio.LocalNamespace) socketio.Adapter {
		return joinAwaitingAdapter{socketio.NewMemoryAdapter(ns)}
	})(plainNamespace{})
	if _, ok := awaiting.(socketio.JoinAwaiter); !ok {
		t.Error("the wrapper of a JoinAwaiter hides it")
	}
	plain := s.instrument(func(ns socketio.LocalNamespace) socketio.Adapter {
		return socketio.NewMemoryAdapter(ns)
	})(plainNamespace{})
	if _, ok := plain.(socketio.JoinAwaiter); ok {
		t.Error("the wrapper of a memory adapter is a JoinAwaiter")
	}
}
