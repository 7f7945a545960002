// Command realtime is the Realtime Service: a Socket.IO v4 server with JWT authentication,
// room rules and an internal HTTP API for backends.
//
// Usage:
//
//	realtime [serve] [flags]     run the service (the default)
//	realtime token [flags] USER  mint a client token for USER from the configured secret
//	realtime emit [flags]        call the internal API from a shell
//	realtime help                show this help and the settings
//
// Settings come from environment variables, each also a flag that overrides it (PORT is
// --port, JWT_SECRET is --jwt-secret...). `realtime --dev` needs none.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tomato-code/realtime/service/config"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv))
}

// env looks a variable up, as os.LookupEnv; tests pass their own.
type env func(string) (string, bool)

// run dispatches to a subcommand and returns the process exit code: 0 on success, 1 when the
// work failed, 2 for a usage or configuration error.
func run(args []string, stdout, stderr io.Writer, lookup env) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(args, stdout, stderr, lookup)
	case "token":
		return token(args, stdout, stderr, lookup)
	case "emit":
		return emit(args, stdout, stderr, lookup)
	case "help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "realtime: unknown command %q\n\n", cmd)
		usage(stderr)
		return 2
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `realtime: the Realtime Service (Socket.IO v4 with JWT auth and an internal API)

Usage:
  realtime [serve] [flags]       run the service (default command)
  realtime token [flags] USER_ID mint a client token from the configured secret
  realtime emit [flags]          call the internal API (emit by default)
  realtime help                  this text

Quick start:
  realtime --dev                 no configuration needed; prints a token and a curl command

Settings (environment variable, flag; a flag overrides the variable):
`)
	fmt.Fprint(w, config.Usage())
	fmt.Fprint(w, `
Run "realtime token -h" and "realtime emit -h" for their own flags.
`)
}
