package main

import (
	"errors"
	"log/slog"

	"github.com/tomato-code/realtime/adapter/redis"
	"github.com/tomato-code/realtime/service"
	"github.com/tomato-code/realtime/service/config"
	"github.com/tomato-code/realtime/service/metrics"
)

// redisAdapter sets opts.Adapter, opts.AdapterState and opts.AdapterStats for REDIS_URL and
// returns the function that releases the Redis connections; call it after the service
// returned (the service closes its adapters first). The node starts serving its own sockets at
// once and joins the cluster when Redis answers; /ready says 503 until then.
func redisAdapter(cfg *config.Config, log *slog.Logger, opts *service.Options) (func(), error) {
	mode := redis.SubscribePattern
	if cfg.RedisRoomChannels {
		mode = redis.SubscribeRooms
	}
	cl, err := redis.New(redis.Config{URL: cfg.RedisURL, Key: cfg.RedisKey, Subscription: mode, Logger: log.With("component", "redis")})
	if err != nil {
		return nil, err
	}
	opts.Adapter = cl.NewAdapter
	opts.AdapterState = redisState{cl}
	opts.AdapterStats = func() metrics.AdapterStats {
		st := cl.Stats()
		return metrics.AdapterStats{Published: st.Published, Received: st.Received, PublishDropped: st.PublishDropped,
			PublishFailed: st.PublishFailed, Malformed: st.Malformed, ReceiveDropped: st.ReceiveDropped,
			Reconnects: st.Reconnects, QueuedBytes: st.QueuedBytes, Skipped: st.Skipped,
			JoinWaitTimeouts: st.JoinWaitTimeouts, Ready: cl.Ready()}
	}
	return func() {
		if err := cl.Close(); err != nil {
			log.Warn("closing the Redis adapter", "error", err)
		}
	}, nil
}

// redisState reports the Redis connection to /health and /ready.
type redisState struct{ cl *redis.Cluster }

func (r redisState) Name() string { return "redis" }

func (r redisState) Ready() error {
	h := r.cl.Health()
	if h.Ready {
		return nil
	}
	if h.LastError != "" {
		return errors.New(h.LastError)
	}
	return errors.New("not connected to Redis yet")
}
