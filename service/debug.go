package service

import (
	"net/http"
	"net/http/pprof"
)

// debugHandler serves the pprof endpoints on the DEBUG_ADDR listener only. (Importing
// net/http/pprof also registers them on http.DefaultServeMux, which the service never serves.)
func debugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
