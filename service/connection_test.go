package service

import (
	"encoding/json"
	"testing"
	"time"
)

// socketData keeps the connection time as a time.Time; its JSON form, which cluster peers
// and the sockets listing read, must stay what the formatted string was.
func TestSocketDataJSONFormUnchanged(t *testing.T) {
	at := time.Date(2026, 11, 26, 1, 2, 3, 456789000, time.UTC)
	got, err := json.Marshal(&socketData{UserID: "u1", RestaurantID: "r1", ConnectedAt: at})
	want := `{"userId":"u1","restaurantId":"r1","connectedAt":"` + at.Format(time.RFC3339Nano) + `"}`
	if err != nil || string(got) != want {
		t.Errorf("JSON form %s, %v; want %s", got, err, want)
	}
	var back fetchedData
	if err := json.Unmarshal(got, &back); err != nil || back.ConnectedAt != at.Format(time.RFC3339Nano) || back.UserID != "u1" || back.RestaurantID != "r1" {
		t.Errorf("read back %+v, %v", back, err)
	}
}

// A peer's data whose connectedAt is not a time must not cost the members after it.
func TestFetchedDataToleratesAnUnreadableTime(t *testing.T) {
	var d fetchedData
	if err := json.Unmarshal([]byte(`{"connectedAt":"yesterday","userId":"u2","restaurantId":"r2"}`), &d); err != nil ||
		d.UserID != "u2" || d.RestaurantID != "r2" {
		t.Errorf("%+v, %v", d, err)
	}
	if _, err := time.Parse(time.RFC3339Nano, d.ConnectedAt); err == nil {
		t.Errorf("%q parsed as a time", d.ConnectedAt)
	}
}
