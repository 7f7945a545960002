package loop

import (
	"time"

	"github.com/tomato-code/realtime/bench/internal/token"
	"github.com/tomato-code/realtime/bench/internal/wsframe"
)

// tokenMinter builds the Socket.IO CONNECT frame of a connection: 40{"token":"<jwt>"}, with a
// token minted for the connection's user when it is needed, so that no token is held in memory
// per connection.
type tokenMinter struct {
	m            *token.Minter
	prefix       string
	restaurantID string
	ttl          time.Duration
	packet       []byte
}

func newTokenMinter(cfg Config) *tokenMinter {
	return &tokenMinter{
		m:            token.NewMinter(cfg.Secret),
		prefix:       cfg.UserPrefix,
		restaurantID: cfg.RestaurantID,
		ttl:          cfg.TokenTTL,
	}
}

// connectFrame appends the masked CONNECT frame of connection idx to dst.
func (t *tokenMinter) connectFrame(dst []byte, idx int, mask [4]byte) []byte {
	tok := t.m.Mint(token.Claims{
		UserID:       UserID(t.prefix, idx),
		RestaurantID: t.restaurantID,
		Expires:      token.ExpiresIn(t.ttl),
	})
	t.packet = append(t.packet[:0], `40{"token":"`...)
	t.packet = append(t.packet, tok...)
	t.packet = append(t.packet, `"}`...)
	return wsframe.AppendMasked(dst, wsframe.OpText, t.packet, mask)
}
