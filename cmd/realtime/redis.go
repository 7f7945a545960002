package main

import (
	"errors"
	"log/slog"

	"github.com/tomato-code/realtime/service"
	"github.com/tomato-code/realtime/service/config"
)

// redisAdapter sets opts.Adapter and opts.AdapterState for REDIS_URL and returns the function
// that releases the Redis clients. The Redis adapter (package adapter/redis) plugs in here.
func redisAdapter(cfg *config.Config, log *slog.Logger, opts *service.Options) (func(), error) {
	return nil, errors.New("this build has no Redis adapter yet; unset REDIS_URL to run one node")
}
