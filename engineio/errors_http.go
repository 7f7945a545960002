package engineio

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// writeError answers a bad polling or handshake request the way the reference does: status 400
// (403 for CodeForbidden) and the JSON body {"code":N,"message":"..."}. message "" means the
// code's standard message.
func writeError(w http.ResponseWriter, code int, message string) {
	if message == "" {
		message = codeMessages[code]
	}
	status := http.StatusBadRequest
	if code == CodeForbidden {
		status = http.StatusForbidden
	}
	writeJSONError(w, status, code, message)
}

func writeJSONError(w http.ResponseWriter, status, code int, message string) {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false) // the reference's JSON.stringify leaves <, > and & as they are
	_ = enc.Encode(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{code, message})
	b := bytes.TrimSuffix(body.Bytes(), []byte("\n"))
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// writeUpgradeError answers a bad websocket upgrade request as the reference does: a raw
// "400 Bad Request" whose text body is the message, then the connection is closed.
func writeUpgradeError(w http.ResponseWriter, code int, message string) {
	if message == "" {
		message = codeMessages[code]
	}
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// HTTP/2 or a wrapped ResponseWriter: no raw connection, answer through net/http.
		h := w.Header()
		h.Set("Connection", "close")
		h.Set("Content-Type", "text/html")
		h.Set("Content-Length", strconv.Itoa(len(message)))
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(message))
		return
	}
	defer conn.Close()
	rw.Writer.WriteString("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-type: text/html\r\nContent-Length: ")
	rw.Writer.WriteString(strconv.Itoa(len(message)))
	rw.Writer.WriteString("\r\n\r\n")
	rw.Writer.WriteString(message)
	rw.Writer.Flush()
}

// writeStatus answers with a bare status code, as the reference does for overlapping polls.
func writeStatus(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(status)
}
