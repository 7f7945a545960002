package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tomato-code/realtime/service/api"
	"github.com/tomato-code/realtime/service/config"
)

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// emit calls the internal API. By default it builds an emit from its flags; --route and --body
// reach the other routes.
func emit(args []string, stdout, stderr io.Writer, lookup env) int {
	fs := flag.NewFlagSet("realtime emit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	settings := config.Bind(fs)
	var rooms, except listFlag
	fs.Var(&rooms, "room", "target room (repeatable)")
	fs.Var(&except, "except", "room whose sockets are left out (repeatable)")
	event := fs.String("event", "", "event name")
	payload := fs.String("payload", "", "payload, JSON (a bare word is sent as a string)")
	namespace := fs.String("namespace", "", "namespace (default /)")
	volatile := fs.Bool("volatile", false, "volatile emit: skip sockets that cannot take it at once")
	ack := fs.Duration("ack-timeout", 0, "wait that long for the clients' acknowledgements and print them")
	route := fs.String("route", "emit", "API route under /api/v1/internal/: emit, emit/batch, rooms/join, rooms/leave, disconnect, sockets?room=R")
	body := fs.String("body", "", "raw JSON body, sent as is instead of the one built from the flags (- reads stdin)")
	url := fs.String("url", "", "base URL of the internal API (default from INTERNAL_ADDR, else HOST and PORT)")
	timeout := fs.Duration("timeout", 70*time.Second, "HTTP request timeout")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: realtime emit [flags]

Calls the internal API with the key of INTERNAL_SERVICE_KEY (or --dev) and prints the answer.

  realtime emit --dev --room user:42 --event order:update --payload '{"id":7}'
  realtime emit --dev --route rooms/join --body '{"room":"user:42","join":"order:7"}'
  realtime emit --dev --route 'sockets?room=user:42'

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitParse(err)
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	cfg, err := settings.Resolve(lookup)
	if err != nil {
		fmt.Fprintln(stderr, "realtime emit:", err)
		return 2
	}
	if cfg.InternalServiceKey == "" {
		fmt.Fprintln(stderr, "realtime emit:", &config.MissingError{Variable: "INTERNAL_SERVICE_KEY"})
		return 2
	}

	method := http.MethodPost
	if strings.HasPrefix(*route, "sockets") {
		method = http.MethodGet
	}
	var data []byte
	switch {
	case *body == "-":
		if data, err = io.ReadAll(os.Stdin); err != nil {
			fmt.Fprintln(stderr, "realtime emit: reading stdin:", err)
			return 1
		}
	case *body != "":
		data = []byte(*body)
	case method == http.MethodPost:
		if data, err = buildEmit(*event, rooms, except, *payload, *namespace, *volatile, *ack); err != nil {
			fmt.Fprintln(stderr, "realtime emit:", err)
			return 2
		}
	}

	base := *url
	if base == "" {
		base = defaultAPIURL(cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(base, "/")+api.Prefix+strings.TrimLeft(*route, "/"), bytes.NewReader(data))
	if err != nil {
		fmt.Fprintln(stderr, "realtime emit:", err)
		return 2
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(api.KeyHeader, cfg.InternalServiceKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "realtime emit:", err)
		return 1
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	out := stdout
	if resp.StatusCode/100 != 2 {
		out = stderr
		fmt.Fprintf(stderr, "realtime emit: %s\n", resp.Status)
	}
	_, _ = out.Write(answer)
	if resp.StatusCode/100 != 2 {
		return 1
	}
	return 0
}

func buildEmit(event string, rooms, except []string, payload, namespace string, volatile bool, ack time.Duration) ([]byte, error) {
	if event == "" {
		return nil, errors.New("--event is required")
	}
	if len(rooms) == 0 {
		return nil, errors.New("--room is required: an emit always names its rooms")
	}
	body := map[string]any{"event": event, "rooms": rooms}
	if payload != "" {
		if json.Valid([]byte(payload)) {
			body["payload"] = json.RawMessage(payload)
		} else {
			body["payload"] = payload
		}
	}
	if len(except) > 0 {
		body["except"] = except
	}
	if namespace != "" {
		body["namespace"] = namespace
	}
	if volatile {
		body["volatile"] = true
	}
	if ack > 0 {
		body["ack"] = map[string]int64{"timeoutMs": ack.Milliseconds()}
	}
	return json.Marshal(body)
}

// defaultAPIURL is where this machine's service answers the internal API.
func defaultAPIURL(cfg *config.Config) string {
	if cfg.InternalAddr != "" {
		host, port, err := net.SplitHostPort(cfg.InternalAddr)
		if err == nil {
			return "http://" + net.JoinHostPort(loopbackIfAny(host), port)
		}
	}
	return "http://" + net.JoinHostPort(loopbackIfAny(cfg.Host), strconv.Itoa(cfg.Port))
}

func loopbackIfAny(host string) string {
	if host == "" || host == "0.0.0.0" || host == "::" {
		return "127.0.0.1"
	}
	return host
}
