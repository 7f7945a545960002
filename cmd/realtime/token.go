package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tomato-code/realtime/service/auth"
	"github.com/tomato-code/realtime/service/config"
)

// token mints a client token: HS256 from JWT_SECRET, or RS256/ES256 with --private-key-file.
func token(args []string, stdout, stderr io.Writer, lookup env) int {
	fs := flag.NewFlagSet("realtime token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	settings := config.Bind(fs)
	restaurant := fs.String("restaurant-id", "", "restaurantId claim: the user owns this restaurant")
	expires := fs.Duration("expires-in", 24*time.Hour, "token lifetime; 0 mints a token without exp")
	keyFile := fs.String("private-key-file", "", "PEM private key: mint RS256/ES256 instead of HS256")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: realtime token [flags] USER_ID\n\nPrints a client token whose _id claim is USER_ID.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitParse(err)
	}
	if fs.NArg() != 1 || fs.Arg(0) == "" {
		fs.Usage()
		return 2
	}
	cfg, err := settings.Resolve(lookup)
	if err != nil {
		fmt.Fprintln(stderr, "realtime token:", err)
		return 2
	}
	opts := auth.MintOptions{UserID: fs.Arg(0), RestaurantID: *restaurant, TTL: *expires}
	tok, err := mintToken(cfg, *keyFile, opts)
	if err != nil {
		fmt.Fprintln(stderr, "realtime token:", err)
		return 2
	}
	fmt.Fprintln(stdout, tok)
	return 0
}

func mintToken(cfg *config.Config, keyFile string, opts auth.MintOptions) (string, error) {
	if keyFile != "" {
		data, err := os.ReadFile(keyFile)
		if err != nil {
			return "", err
		}
		key, err := auth.ParsePrivateKey(data)
		if err != nil {
			return "", fmt.Errorf("%s: %w", keyFile, err)
		}
		return auth.MintWithKey(key, opts)
	}
	if cfg.JWTSecret == "" {
		if cfg.JWTPublicKeyFile != "" {
			return "", errors.New("the service checks RS256/ES256 tokens (JWT_PUBLIC_KEY_FILE): give the private key with --private-key-file")
		}
		return "", errors.New("JWT_SECRET is required (flag --jwt-secret), or --dev for the development secret")
	}
	return auth.MintHS256([]byte(cfg.JWTSecret), opts)
}

// exitParse maps a flag parsing error to an exit code: -h is a success.
func exitParse(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}
