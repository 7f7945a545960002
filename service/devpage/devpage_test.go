package devpage

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, cfg Config, method, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler(cfg).ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b)
}

func TestDevPage(t *testing.T) {
	cfg := Config{Dev: true, Token: "tok.en.x", Key: "k<ey>", UserRoom: "user:dev", Namespaces: []string{"/", "/orders"}, APIOnThisOrigin: true}
	code, body := get(t, cfg, "GET", "/")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	for _, want := range []string{
		`id="dev-warning"`, `>tok.en.x</textarea>`, `value="k&lt;ey&gt;"`, `value="user:dev"`,
		`<option>/orders</option>`, `id="emit-send"`, `"/socket.io/socket.io.js"`, CDNClientURL,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if code, _ := get(t, cfg, "GET", "/other"); code != 404 {
		t.Errorf("other path: %d", code)
	}
	if code, _ := get(t, cfg, "POST", "/"); code != 405 {
		t.Errorf("POST: %d", code)
	}
}

func TestProductionPageKeepsSecretsOut(t *testing.T) {
	code, body := get(t, Config{Token: "secret-token", Key: "secret-key"}, "GET", "/")
	if code != 200 || strings.Contains(body, "secret-") || strings.Contains(body, `id="dev-warning"`) {
		t.Fatalf("production page shows dev content: %d", code)
	}
	if strings.Contains(body, `id="emit-send"`) || !strings.Contains(body, "INTERNAL_ADDR") {
		t.Fatal("without the API on this origin the page must explain instead of offering the form")
	}
}

func TestPageTriesOnlyTheGivenClientURLs(t *testing.T) {
	_, body := get(t, Config{Dev: true, ClientURLs: []string{CDNClientURL}}, "GET", "/")
	if strings.Contains(body, ClientScriptPath) || !strings.Contains(body, CDNClientURL) {
		t.Fatal("a server without CLIENT_SCRIPT must send the page to the CDN only")
	}
}
