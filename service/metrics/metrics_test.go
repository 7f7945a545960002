package metrics

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestExposition(t *testing.T) {
	m := New()
	m.Connected("/")
	m.Connected("/")
	m.Connected("/orders")
	m.Disconnected("/", "transport close")
	m.Disconnected("/", "something new")
	m.ConnectRefused("/", RefusedNoToken)
	m.ConnectRefused("/", RefusedInvalidToken)
	m.EventReceived("/")
	m.EventSent("/", 3)
	m.EventSent("/", -1)
	m.APIRequest("/api/v1/internal/emit", 200, 3*time.Millisecond)
	m.APIEmits("/api/v1/internal/emit/batch", 5)
	m.WriteQueueDrop(DropVolatile)
	m.Delivered(4, 2)
	m.Delivered(0, 0)
	m.SetDraining(true)
	if out := scrape(t, m); !strings.Contains(out, "realtime_adapter_ready 1") || !strings.Contains(out, "realtime_adapter_published_total 0") {
		t.Fatal("without an adapter, the adapter metrics must read ready and zero")
	}
	if out := scrape(t, m); !strings.Contains(out, "realtime_api_lane_requests_total 0") || !strings.Contains(out, "realtime_api_lane_connections 0") {
		t.Fatal("without a lane, the lane metrics must read zero")
	}
	m.ObserveAPILane(func() APILaneStats { return APILaneStats{Takeovers: 11, Requests: 12, Handbacks: 13, Open: 14} })
	m.ObserveAdapter(func() AdapterStats {
		return AdapterStats{Published: 1, Received: 2, PublishDropped: 3, PublishFailed: 4, Malformed: 5, ReceiveDropped: 6, Reconnects: 7, QueuedBytes: 8, Skipped: 9, JoinWaitTimeouts: 10}
	})

	out := scrape(t, m)
	for _, want := range []string{
		`realtime_connections{namespace="/"} 0`,
		`realtime_connections{namespace="/orders"} 1`,
		`realtime_connects_total{namespace="/"} 2`,
		`realtime_disconnects_total{namespace="/",reason="transport close"} 1`,
		`realtime_disconnects_total{namespace="/",reason="other"} 1`,
		`realtime_connect_errors_total{namespace="/",reason="no_token"} 1`,
		`realtime_connect_errors_total{namespace="/",reason="invalid_token"} 1`,
		`realtime_events_received_total{namespace="/"} 1`,
		`realtime_events_sent_total{namespace="/"} 2`,
		`realtime_broadcast_recipients_count 3`,
		`realtime_broadcast_recipients_sum 7`,
		`realtime_api_requests_total{code="200",route="/api/v1/internal/emit"} 1`,
		`realtime_api_request_duration_seconds_count{route="/api/v1/internal/emit"} 1`,
		`realtime_api_emits_total{route="/api/v1/internal/emit/batch"} 5`,
		`realtime_adapter_published_total 1`,
		`realtime_adapter_received_total 2`,
		`realtime_adapter_publish_dropped_total 3`,
		`realtime_adapter_publish_failed_total 4`,
		`realtime_adapter_malformed_total 5`,
		`realtime_adapter_join_wait_timeouts_total 10`,
		`realtime_adapter_receive_dropped_total 6`,
		`realtime_adapter_reconnects_total 7`,
		`realtime_adapter_publish_queue_bytes 8`,
		`realtime_adapter_skipped_total 9`,
		`realtime_adapter_ready 0`,
		`realtime_api_lane_takeovers_total 11`,
		`realtime_api_lane_requests_total 12`,
		`realtime_api_lane_handbacks_total 13`,
		`realtime_api_lane_connections 14`,
		`realtime_write_queue_drops_total{kind="volatile"} 3`,
		`realtime_write_queue_drops_total{kind="write_queue_full"} 0`,
		`realtime_draining 1`,
		`go_goroutines `,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
}

func TestNilRecordsNothing(t *testing.T) {
	var m *Metrics
	m.Connected("/")
	m.Disconnected("/", "x")
	m.ConnectRefused("/", RefusedOther)
	m.EventReceived("/")
	m.EventSent("/", 1)
	m.APIRequest("r", 200, 0)
	m.APIEmits("r", 1)
	m.ObserveAdapter(nil)
	m.Delivered(1, 1)
	m.WriteQueueDrop(DropVolatile)
	m.SetDraining(false)
}

// TestCachedChildrenConcurrently records from many goroutines at once, new label values
// included, so that the cached children are created while others read them.
func TestCachedChildrenConcurrently(t *testing.T) {
	m := New()
	const workers, each = 8, 200
	routes := []string{"/api/v1/internal/emit", "/api/v1/internal/emit/batch", "unknown"}
	done := make(chan struct{})
	for w := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range each {
				route := routes[(w+i)%len(routes)]
				m.APIRequest(route, 200+(i%2)*204, time.Millisecond)
				m.APIEmits(route, 1)
				m.EventSent([]string{"/", "/orders"}[i%2], -1)
			}
		}()
	}
	for range workers {
		<-done
	}
	out := scrape(t, m)
	total := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "realtime_api_requests_total{") {
			var n int
			if _, err := fmt.Sscanf(line[strings.LastIndexByte(line, ' ')+1:], "%d", &n); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			total += n
		}
	}
	if total != workers*each {
		t.Errorf("realtime_api_requests_total sums to %d, want %d", total, workers*each)
	}
	for _, want := range []string{
		`realtime_api_requests_total{code="404",route="unknown"}`,
		fmt.Sprintf(`realtime_events_sent_total{namespace="/"} %d`, workers*each/2),
		fmt.Sprintf(`realtime_events_sent_total{namespace="/orders"} %d`, workers*each/2),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s", want)
		}
	}
}
