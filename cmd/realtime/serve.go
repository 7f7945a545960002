package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/tomato-code/realtime/service"
	"github.com/tomato-code/realtime/service/api"
	"github.com/tomato-code/realtime/service/config"
	"github.com/tomato-code/realtime/service/devpage"
)

// serve runs the service until SIGTERM or SIGINT, then drains it and exits 0.
func serve(args []string, stdout, stderr io.Writer, lookup env) int {
	fs := flag.NewFlagSet("realtime serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	settings := config.Bind(fs)
	fs.Usage = func() { usage(stderr) }
	if err := fs.Parse(args); err != nil {
		return exitParse(err)
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "realtime: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg, err := settings.Resolve(lookup)
	if err != nil {
		fmt.Fprintln(stderr, "realtime:", err)
		return 2
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "realtime:", err)
		return 2
	}
	log := service.NewLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	for _, w := range cfg.Warnings() {
		log.Warn(w)
	}
	opts := service.Options{Stdout: stdout}
	if cfg.RedisURL != "" {
		closeAdapter, err := redisAdapter(cfg, log, &opts)
		if err != nil {
			fmt.Fprintln(stderr, "realtime: REDIS_URL:", err)
			return 1
		}
		defer closeAdapter()
	}
	svc, err := service.New(cfg, log, opts)
	if err != nil {
		fmt.Fprintln(stderr, "realtime:", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		// A second signal during the drain ends the process at once.
		<-ctx.Done()
		stop()
	}()
	err = svc.Run(ctx, func(a service.Addrs) {
		if cfg.Dev {
			printDevBanner(stderr, cfg, svc, a)
		}
	})
	if err != nil {
		log.Error("stopped", "error", err)
		return 1
	}
	return 0
}

// printDevBanner shows what a newcomer needs: a token, the client snippet, a curl command.
func printDevBanner(w io.Writer, cfg *config.Config, svc *service.Service, a service.Addrs) {
	base := "http://" + hostPort(a.Main)
	apiBase := base
	if a.Internal != nil {
		apiBase = "http://" + hostPort(a.Internal)
	}
	tok, err := svc.DevToken()
	if err != nil {
		tok = "(no HS256 secret: mint one with your private key)"
	}
	client := fmt.Sprintf("  It loads socket.io-client from this process: %s%s (CLIENT_SCRIPT=%s).",
		base, devpage.ClientScriptPath, cfg.ClientScript)
	if cfg.ClientScript == "" {
		client = fmt.Sprintf(`  It loads socket.io-client from the CDN (%s).
  To serve the client from this process instead (offline, or to pin your own copy):
    npm install socket.io-client@4     # in your frontend project, or any directory
    realtime --dev --client-script node_modules/socket.io-client/dist/socket.io.min.js
  (or CLIENT_SCRIPT=...): it is then served at %s%s.`,
			devpage.CDNClientURL, base, devpage.ClientScriptPath)
	}
	bar := strings.Repeat("!", 78)
	fmt.Fprintf(w, `
%s
!!  DEVELOPMENT MODE: the JWT secret and the internal API key are public defaults.
!!  Never expose this process to a network. For production set JWT_SECRET and
!!  INTERNAL_SERVICE_KEY and run without --dev.
%s

Test page: %s/
  Open it in a browser: it connects as %q, shows the events it receives and sends
  test emits through the internal API.
%s

Example token (user %q, valid 24h):
  %s

Connect from a frontend:
  const socket = io(%q, { auth: { token: %q } });
  socket.onAny((event, ...args) => console.log(event, args));

Emit to that user from a shell:
  curl -s -X POST %s%s -H 'Content-Type: application/json' -H 'x-internal-key: %s' -d '{"event":"hello","room":"user:%s","payload":{"message":"hi"}}'

More tokens: realtime token --dev USER_ID [--restaurant-id ID]

`, bar, bar, base, service.DevUserID, client, service.DevUserID, tok, base, tok, apiBase, api.RouteEmit, cfg.InternalServiceKey, service.DevUserID)
}

// hostPort turns a listen address into one a browser can reach: the unspecified address
// becomes loopback.
func hostPort(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, fmt.Sprint(tcp.Port))
}

// osEnv is the process environment, for main.
var _ env = os.LookupEnv
